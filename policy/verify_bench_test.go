package policy

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/babgate/bab/ident"
)

// BenchmarkVerifyFleetBundle is what every appliance does with each push
// to a fleet of 1,000: parse, verify and decode a bundle that lists them.
func BenchmarkVerifyFleetBundle(b *testing.B) {
	bundle := labBundle()
	m := ident.MustMember("MA/MUN/SIM0")
	bundle.Members = append(bundle.Members, Member{ID: m, Name: "sim"})
	for i := range 1000 {
		id := ident.MustAppliance(fmt.Sprintf("MA/MUN/SIM0:sim-%05d", i))
		bundle.Appliances = append(bundle.Appliances, Appliance{ID: id, Key: keyOf(id)})
	}
	pub, priv, _ := GenerateKey()
	s, err := Sign(bundle, priv)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := s.Marshal()
	trust := Trust{Keys: []ed25519.PublicKey{pub}}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		sp, err := ParseSigned(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sp.Verify(trust, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
