package policy

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/babgate/bab/ident"
)

// keyHashPrefix starts every key hash: it says which hash follows.
const keyHashPrefix = "sha256:"

// KeyHash names an appliance's key as the policy, the exchange's registry,
// its deny list and fleet show write it: "sha256:" and the SHA-256 of the
// key's DER SubjectPublicKeyInfo in 64 lower-case hexadecimal digits. A
// certificate renewal certifies the same key, so the name stays.
func KeyHash(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("key hash: %w", err)
	}
	return KeyHashOf(der), nil
}

// KeyHashOf is KeyHash of a key given as its DER SubjectPublicKeyInfo.
func KeyHashOf(spki []byte) string {
	sum := sha256.Sum256(spki)
	return keyHashPrefix + hex.EncodeToString(sum[:])
}

// ValidKeyHash reports whether s is a key hash as [KeyHash] writes it:
// exactly, so that two spellings of one key cannot be told apart as two.
func ValidKeyHash(s string) bool {
	h, ok := strings.CutPrefix(s, keyHashPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ApplianceKey returns the key the policy binds to appliance a, as
// [KeyHash] writes it, and whether the policy lists a. A peer that
// presents a key proves to be a only if KeyHash of that key is this one.
func (p *Policy) ApplianceKey(a ident.Appliance) (string, bool) {
	i, ok := p.index.appliances[a]
	if !ok || p.bundle == nil || i >= len(p.bundle.Appliances) {
		return "", false
	}
	return p.bundle.Appliances[i].Key, true
}
