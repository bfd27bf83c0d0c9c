package e2e

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

func policySign(b *policy.Bundle, key ed25519.PrivateKey) ([]byte, error) {
	s, err := policy.Sign(b, key)
	if err != nil {
		return nil, err
	}
	return s.Marshal()
}

func policyGenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) { return policy.GenerateKey() }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// madeUpKey is a key hash for an appliance that never enrolls, for
// policies that list one: no machine holds its key.
func madeUpKey(id ident.Appliance) string {
	sum := sha256.Sum256([]byte("no machine holds this key: " + id.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
