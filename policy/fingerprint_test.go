package policy_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/babgate/bab/policy"
)

// TestFingerprint pins the definition with a known answer, and checks
// that it names what a trust accepts: order, repeats and a threshold of 0
// do not change it; another key, one key more or less, or another
// threshold do.
func TestFingerprint(t *testing.T) {
	key := func(b byte) ed25519.PublicKey {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = b
		return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	}
	a, b, c := key(1), key(2), key(3)

	// The definition, written out: domain, threshold, sorted keys.
	lo, hi := a, b
	if string(b) < string(a) {
		lo, hi = b, a
	}
	h := sha256.New()
	h.Write([]byte("bab-ops-trust/1\x00"))
	h.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2})
	h.Write(lo)
	h.Write(hi)
	want := base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	if got := (policy.Trust{Keys: []ed25519.PublicKey{a, b}, Threshold: 2}).Fingerprint(); got != want {
		t.Fatalf("Fingerprint = %s, want %s", got, want)
	}
	if len(want) != 43 {
		t.Fatalf("a fingerprint is %d characters, want 43", len(want))
	}

	base := policy.Trust{Keys: []ed25519.PublicKey{a, b}, Threshold: 1}
	same := map[string]policy.Trust{
		"keys in another order": {Keys: []ed25519.PublicKey{b, a}, Threshold: 1},
		"a key listed twice":    {Keys: []ed25519.PublicKey{a, b, a}, Threshold: 1},
		"threshold 0":           {Keys: []ed25519.PublicKey{a, b}},
	}
	for name, tr := range same {
		if tr.Fingerprint() != base.Fingerprint() {
			t.Errorf("%s changes the fingerprint", name)
		}
	}
	other := map[string]policy.Trust{
		"another key":       {Keys: []ed25519.PublicKey{a, c}, Threshold: 1},
		"one key more":      {Keys: []ed25519.PublicKey{a, b, c}, Threshold: 1},
		"one key less":      {Keys: []ed25519.PublicKey{a}, Threshold: 1},
		"another threshold": {Keys: []ed25519.PublicKey{a, b}, Threshold: 2},
		"no keys":           {Threshold: 1},
	}
	seen := map[string]string{base.Fingerprint(): "the base"}
	for name, tr := range other {
		f := tr.Fingerprint()
		if prev, dup := seen[f]; dup {
			t.Errorf("%s has the fingerprint of %s", name, prev)
		}
		seen[f] = name
	}
}
