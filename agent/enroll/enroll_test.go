package enroll

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// TestCheckOpsKeys: the appliance pins the ops keys of an answer only when
// they and the threshold are those the token's fingerprint names.
func TestCheckOpsKeys(t *testing.T) {
	var pub [3]ed25519.PublicKey
	var pem [3][]byte
	for i := range pub {
		pub[i], _, _ = policy.GenerateKey()
		pem[i] = policy.MarshalPublicKey(pub[i])
	}
	token := policy.Trust{Keys: []ed25519.PublicKey{pub[0], pub[1]}, Threshold: 2}.Fingerprint()
	cases := []struct {
		name      string
		keys      [][]byte
		threshold int
		ok        bool
	}{
		{"the keys the token names", [][]byte{pem[0], pem[1]}, 2, true},
		{"in another order", [][]byte{pem[1], pem[0]}, 2, true},
		{"another key", [][]byte{pem[0], pem[2]}, 2, false},
		{"one key more", [][]byte{pem[0], pem[1], pem[2]}, 2, false},
		{"one key less", [][]byte{pem[0]}, 1, false},
		{"a lower threshold", [][]byte{pem[0], pem[1]}, 1, false},
		{"no threshold", [][]byte{pem[0], pem[1]}, 0, false},
		{"no keys", nil, 2, false},
		{"a key that is not one", [][]byte{pem[0], []byte("not a key")}, 2, false},
	}
	for _, c := range cases {
		err := checkOpsKeys(&wire.Enrolled{OpsKeys: c.keys, PolicyThreshold: c.threshold}, token)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && !errors.Is(err, ErrOpsKeysMismatch) {
			t.Errorf("%s: %v does not match ErrOpsKeysMismatch", c.name, err)
		}
	}
}
