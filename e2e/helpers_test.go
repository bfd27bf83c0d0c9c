package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"

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

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
