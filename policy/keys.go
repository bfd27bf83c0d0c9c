package policy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// PEM block types of the key files; the standard ones, so that other tools
// can read and make them.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// GenerateKey makes a new ops signing key pair.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	return pub, priv, nil
}

// MarshalPrivateKey encodes k as a PKCS#8 "PRIVATE KEY" PEM block. It
// returns nil if k is not a valid Ed25519 private key.
func MarshalPrivateKey(k ed25519.PrivateKey) []byte {
	if len(k) != ed25519.PrivateKeySize {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der})
}

// ParsePrivateKey decodes what MarshalPrivateKey writes; anything else,
// including an encrypted block or a second block, is an error matching
// [ErrBadKey].
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	der, err := pemBody(pemBytes, pemPrivate)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w: %v", ErrBadKey, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse private key: %w: %T is not an Ed25519 key", ErrBadKey, k)
	}
	return priv, nil
}

// MarshalPublicKey encodes k as a PKIX "PUBLIC KEY" PEM block. It returns
// nil if k is not a valid Ed25519 public key.
func MarshalPublicKey(k ed25519.PublicKey) []byte {
	if len(k) != ed25519.PublicKeySize {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der})
}

// ParsePublicKey decodes what MarshalPublicKey writes; anything else is an
// error matching [ErrBadKey].
func ParsePublicKey(pemBytes []byte) (ed25519.PublicKey, error) {
	der, err := pemBody(pemBytes, pemPublic)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w: %v", ErrBadKey, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse public key: %w: %T is not an Ed25519 key", ErrBadKey, k)
	}
	return pub, nil
}

// pemBody returns the bytes of the single PEM block of type typ in data. A
// key file with more than one block is refused: which one would be meant?
func pemBody(data []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%w: no PEM block found", ErrBadKey)
	case block.Type != typ:
		return nil, fmt.Errorf("%w: PEM block is %s, want %q", ErrBadKey, quoteCut(block.Type), typ)
	case len(block.Headers) != 0:
		return nil, fmt.Errorf("%w: PEM block has headers (an encrypted key?)", ErrBadKey)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: data after the PEM block", ErrBadKey)
	}
	return block.Bytes, nil
}
