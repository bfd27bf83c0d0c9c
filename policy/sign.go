package policy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// signingDomain is prepended to the payload before signing so that a policy
// signature can never be replayed as a signature over anything else made
// with the same key, nor the other way round.
const signingDomain = "bab-policy-v2\x00"

// MaxSignedSize caps what ParseSigned accepts, so that a hostile or broken
// peer cannot make an appliance buffer and decode without bound.
const MaxSignedSize = 16 << 20

// Signed is a bundle with its signatures, as distributed to appliances.
type Signed struct {
	Payload    []byte      `json:"payload"` // the Bundle in sections (payload.go), exactly as signed
	Signatures []Signature `json:"signatures"`
}

// Signature is one ops key's Ed25519 signature over the payload.
type Signature struct {
	KeyID string `json:"key_id"` // KeyID of the signing key
	Sig   []byte `json:"sig"`
}

// KeyID names a public key in signatures and logs: "ed25519:" and the first
// 16 hex digits of the SHA-256 of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Sign validates b, encodes it and signs the encoding with each key. The
// same key given twice signs once.
func Sign(b *Bundle, keys ...ed25519.PrivateKey) (*Signed, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign: %w: no signing key given", ErrBadKey)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	payload, err := encodePayload(b)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	s := &Signed{Payload: payload}
	for _, k := range keys {
		if err := s.sign(k); err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
	}
	return s, nil
}

// AddSignature co-signs s with another ops key. It first checks that the
// payload is a valid bundle, since a key must never vouch for bytes nobody
// looked at. Signing again with a key that already signed replaces that
// signature.
func (s *Signed) AddSignature(key ed25519.PrivateKey) error {
	b, err := decodeBundle(s.Payload)
	if err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	if err := s.sign(key); err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	return nil
}

func (s *Signed) sign(key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: private key is %d bytes, want %d", ErrBadKey, len(key), ed25519.PrivateKeySize)
	}
	sig := Signature{
		KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Sig:   ed25519.Sign(key, signedMessage(s.Payload)),
	}
	for i := range s.Signatures {
		if s.Signatures[i].KeyID == sig.KeyID {
			s.Signatures[i] = sig
			return nil
		}
	}
	s.Signatures = append(s.Signatures, sig)
	return nil
}

func signedMessage(payload []byte) []byte {
	msg := make([]byte, 0, len(signingDomain)+len(payload))
	return append(append(msg, signingDomain...), payload...)
}

// Marshal encodes s in its file and wire form (indented JSON).
func (s *Signed) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal signed policy: %w", err)
	}
	return append(data, '\n'), nil
}

// ParseSigned decodes either form of a signed bundle: the JSON that
// [Signed.Marshal] writes (ops' files) or the binary that
// [Signed.MarshalBinary] writes (the wire and the appliances' store). It is
// strict (unknown fields, trailing data, missing or misshapen signatures
// are errors matching [ErrMalformed]) but does not look inside the
// payload: that is left to [Signed.Verify], after the signatures vouch for
// it.
func ParseSigned(data []byte) (*Signed, error) {
	if len(data) > MaxSignedSize {
		return nil, fmt.Errorf("parse signed policy: %w: %d bytes, the limit is %d", ErrMalformed, len(data), MaxSignedSize)
	}
	var s *Signed
	if bytes.HasPrefix(data, []byte(signedMagic)) {
		var err error
		if s, err = parseSignedBinary(data); err != nil {
			return nil, fmt.Errorf("parse signed policy: %w", err)
		}
	} else {
		s = &Signed{}
		if err := decodeStrict(data, s); err != nil {
			return nil, fmt.Errorf("parse signed policy: %w", err)
		}
	}
	if err := s.checkShape(); err != nil {
		return nil, fmt.Errorf("parse signed policy: %w", err)
	}
	return s, nil
}

// decodeStrict decodes exactly one JSON value with no unknown fields; any
// failure matches ErrMalformed.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return nil
}

// Bundle decodes the payload without checking any signature: for showing
// what a bundle says (a diff before signing), never for deciding on it.
func (s *Signed) Bundle() (*Bundle, error) { return decodeBundle(s.Payload) }
