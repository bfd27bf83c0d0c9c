package policy

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// TrustSpec is ops trust written down: the keys (raw Ed25519 public keys)
// and how many of them must sign. A bundle's NextTrust announces the trust
// for the bundles after it; that is how ops keys are rotated without
// touching the appliances: the current keys sign a bundle naming the next.
type TrustSpec struct {
	Keys      [][]byte `json:"keys"`
	Threshold int      `json:"threshold"`
}

// Trust turns the spec into what Verify uses.
func (s TrustSpec) Trust() (Trust, error) {
	t := Trust{Threshold: s.Threshold}
	for i, k := range s.Keys {
		if len(k) != ed25519.PublicKeySize {
			return Trust{}, fmt.Errorf("%w: key %d is %d bytes, want %d", ErrBadKey, i, len(k), ed25519.PublicKeySize)
		}
		t.Keys = append(t.Keys, ed25519.PublicKey(slices.Clone(k)))
	}
	return t, nil
}

// SpecOf writes a Trust down.
func SpecOf(t Trust) TrustSpec {
	s := TrustSpec{Threshold: max(t.Threshold, 1)}
	for _, k := range t.Keys {
		s.Keys = append(s.Keys, slices.Clone([]byte(k)))
	}
	return s
}

// PublicKeyText is how a public key is written in a policy source's
// next_ops_keys: standard base64 of the 32 raw bytes.
func PublicKeyText(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// Next returns the trust this bundle announces for the bundles after it,
// or false when it keeps the current one.
func (b *Bundle) Next() (Trust, bool) {
	if b.NextTrust == nil {
		return Trust{}, false
	}
	t, err := b.NextTrust.Trust()
	return t, err == nil
}

// After is the trust that applies once b is in force, given the trust cur
// that verified it.
func (b *Bundle) After(cur Trust) Trust {
	if t, ok := b.Next(); ok {
		return t
	}
	return cur
}

func (s *TrustSpec) validate(v *validator) {
	if len(s.Keys) == 0 {
		v.add("next_trust.keys", "list at least one ops key")
	}
	seen := map[string]int{}
	for i, k := range s.Keys {
		f := fmt.Sprintf("next_trust.keys[%d]", i)
		if len(k) != ed25519.PublicKeySize {
			v.add(f, "is %d bytes; an Ed25519 public key is %d (write it as bab-exchange policy keygen prints it)", len(k), ed25519.PublicKeySize)
			continue
		}
		if j, dup := seen[string(k)]; dup {
			v.add(f, "is the same key as next_trust.keys[%d]", j)
		}
		seen[string(k)] = i
	}
	if s.Threshold < 1 || s.Threshold > len(s.Keys) {
		v.add("next_trust.threshold", "is %d; it must be between 1 and the %d keys listed", s.Threshold, len(s.Keys))
	}
}

// TrustRecord is how a trust is stored next to the bundle it verified.
func TrustRecord(t Trust) []byte {
	b, _ := json.Marshal(SpecOf(t)) // byte slices and an int always encode
	return b
}

// TrustFromRecord reads a stored trust record, or gives def when there is
// none (bundles stored before ops keys could rotate).
func TrustFromRecord(raw []byte, def Trust) (Trust, error) {
	if len(raw) == 0 {
		return def, nil
	}
	var spec TrustSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return Trust{}, fmt.Errorf("stored ops trust: %w", err)
	}
	return spec.Trust()
}
