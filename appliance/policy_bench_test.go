package appliance

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// BenchmarkApplyFleetBundle is one appliance applying a push to a fleet
// of 1,000 (a bundle that lists them all): verify, store in bbolt with its
// routing table, compile, acknowledge.
func BenchmarkApplyFleetBundle(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pub, priv, _ := policy.GenerateKey()
	a := &Appliance{store: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)), trust: policy.Trust{Keys: []ed25519.PublicKey{pub}}}
	now := time.Now().UTC()
	bundle := func(v uint64) []byte {
		m := ident.MustMember("MA/MUN/SIM0")
		bb := &policy.Bundle{Version: v, Issued: now, Expires: now.Add(time.Hour), Members: []policy.Member{{ID: m, Name: "sim"}}}
		for i := range 1000 {
			bb.Appliances = append(bb.Appliances, policy.Appliance{ID: ident.MustAppliance(fmt.Sprintf("MA/MUN/SIM0:sim-%05d", i))})
		}
		s, err := policy.Sign(bb, priv)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := s.Marshal()
		return raw
	}
	bundles := make([][]byte, b.N+1)
	for i := range bundles {
		bundles[i] = bundle(uint64(i + 1))
	}
	b.ResetTimer()
	for i := range b.N {
		if ack := a.Policy(bundles[i]); ack.Error != "" {
			b.Fatal(ack.Error)
		}
	}
}
