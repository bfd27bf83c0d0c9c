package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"unicode"
)

// A pairing code is what office IT reads from bab console pair and types
// into the console: 20 characters of the RFC 4648 base32 alphabet (A-Z,
// 2-7) in 5 groups of 4, e.g. K7Q2-MXF4-7H3M-PQ2R-AB3C. The first 2 groups
// are a one-time secret the appliance checks; the last 3 groups are the
// first 60 bits of the base32 SHA-256 of the console CA's
// SubjectPublicKeyInfo, which the console checks against the CA the
// appliance presents before it sends the secret. A machine in the middle
// on the office network therefore learns nothing it can use: it cannot
// present a CA with that fingerprint, and the console stops before
// sending the code.
const (
	codeGroupLen   = 4
	secretLen      = 2 * codeGroupLen // 40 bits
	fingerprintLen = 3 * codeGroupLen // 60 bits
)

var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CodeFingerprint is the fingerprint part of a pairing code for a console
// CA: the first 60 bits of the base32 (upper case, no padding) SHA-256 of
// its SubjectPublicKeyInfo (x509.Certificate.RawSubjectPublicKeyInfo).
func CodeFingerprint(caSPKI []byte) string {
	sum := sha256.Sum256(caSPKI)
	return codeEncoding.EncodeToString(sum[:])[:fingerprintLen]
}

// NewCode makes a fresh pairing code for the console CA with this
// SubjectPublicKeyInfo, formatted in groups for reading aloud.
func NewCode(caSPKI []byte) string {
	secret := make([]byte, secretLen*5/8)
	_, _ = rand.Read(secret) // crypto/rand never fails
	return groupCode(codeEncoding.EncodeToString(secret) + CodeFingerprint(caSPKI))
}

// SplitCode checks a pairing code as someone typed it and returns its
// secret and fingerprint parts, without dashes. It forgives what people
// do when they copy a code: lower case, spaces, missing dashes, and 0, 1
// and 8 for the letters O, I and B, which the alphabet has instead.
func SplitCode(code string) (secret, fingerprint string, err error) {
	s := normalCode(code)
	if len(s) != secretLen+fingerprintLen {
		return "", "", fmt.Errorf("%w: %d characters instead of %d", ErrBadCode, len(s), secretLen+fingerprintLen)
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '2' || r > '7') {
			return "", "", fmt.Errorf("%w: %q is not one of its characters", ErrBadCode, r)
		}
	}
	return s[:secretLen], s[secretLen:], nil
}

// normalCode is a code in upper case, without separators, with the
// look-alike digits replaced by the letters they stand for.
func normalCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) { // spaces and dashes of every kind
			continue
		}
		switch r {
		case '0':
			r = 'O'
		case '1':
			r = 'I'
		case '8':
			r = 'B'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// groupCode inserts a dash every codeGroupLen characters.
func groupCode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += codeGroupLen {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+codeGroupLen, len(s))])
	}
	return b.String()
}
