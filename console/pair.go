package console

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
)

// A pairing code is five groups of four base32 characters: two groups of
// secret, which the appliance checks, then the first 60 bits of the
// SHA-256 of the appliance's console CA key (SubjectPublicKeyInfo), which
// the console checks before it sends anything: a code read on the server
// thus authenticates each side to the other.
const (
	codeGroups       = 5
	codeSecretGroups = 2
	groupLen         = 4
)

// ErrCode means a pairing code is not of the form office IT reads from
// bab console pair.
var ErrCode = errors.New("console: not a pairing code (five groups of four letters and digits, such as K7Q2-6XF4-7H3M-PQ2R-AB3C)")

var code32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// CodeFingerprint is the part of a pairing code that names the console CA
// whose SubjectPublicKeyInfo is spki.
func CodeFingerprint(spki []byte) string {
	sum := sha256.Sum256(spki)
	s := code32.EncodeToString(sum[:])
	return s[:(codeGroups-codeSecretGroups)*groupLen]
}

// MakeCode joins a secret of SecretLen characters and a fingerprint into
// a code as office IT reads it.
func MakeCode(secret, fingerprint string) string {
	s := secret + fingerprint
	var g []string
	for i := 0; i+groupLen <= len(s); i += groupLen {
		g = append(g, s[i:i+groupLen])
	}
	return strings.Join(g, "-")
}

// SecretLen is how many base32 characters a code's secret has.
const SecretLen = codeSecretGroups * groupLen

// SplitCode reads a code as typed (any case, with or without dashes and
// spaces) into its secret and its fingerprint.
func SplitCode(code string) (secret, fingerprint string, err error) {
	s := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(s) != codeGroups*groupLen {
		return "", "", ErrCode
	}
	for _, c := range s {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", c) {
			return "", "", ErrCode
		}
	}
	return s[:SecretLen], s[SecretLen:], nil
}
