package wire

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// An enrollment token is "ID.SECRET.PIN.OPS": ID finds the token the
// exchange stored, SECRET proves the holder got it from ops (the exchange
// keeps only its hash), PIN is the exchange CA's public key hash, so that
// the appliance can trust the exchange before it has any certificate, and
// OPS is the fingerprint of the ops keys and threshold that sign policy
// (policy.Trust.Fingerprint), so that the appliance pins the keys ops named
// and not whichever keys the exchange hands it.
type Token struct{ ID, Secret, Pin, Ops string }

func (t Token) String() string { return t.ID + "." + t.Secret + "." + t.Pin + "." + t.Ops }

// ErrTokenMalformed means the text given is not an enrollment token.
var ErrTokenMalformed = errors.New("enrollment token malformed")

// ParseToken splits a token and checks its shape. A token of the older
// form without OPS (three parts) is malformed: an appliance enrolled with
// it would pin whatever ops keys the exchange hands it.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) == 3 {
		return Token{}, fmt.Errorf("%w: it has no ops key fingerprint (an older token?); ask central ops for a new one, made with bab-exchange token create", ErrTokenMalformed)
	}
	if len(parts) != 4 || len(parts[0]) != 8 || len(parts[1]) != 32 || len(parts[2]) != 43 || len(parts[3]) != 43 {
		return Token{}, fmt.Errorf("%w: expected ID.SECRET.PIN.OPS as printed by bab-exchange token create", ErrTokenMalformed)
	}
	if _, err := hex.DecodeString(parts[0]); err != nil {
		return Token{}, fmt.Errorf("%w: the ID part must be hexadecimal", ErrTokenMalformed)
	}
	for _, p := range parts[1:] {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return Token{}, fmt.Errorf("%w: it has characters a token cannot have", ErrTokenMalformed)
		}
	}
	return Token{ID: parts[0], Secret: parts[1], Pin: parts[2], Ops: parts[3]}, nil
}

// Pin is the SHA-256 of a certificate's public key, base64url without
// padding: what a token carries to identify the exchange's CA.
func Pin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
