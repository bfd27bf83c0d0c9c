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
	"github.com/babgate/bab/wire"
)

// BenchmarkApplyFleetBundle is one appliance applying a push to a fleet
// of 1,000 (a bundle that lists them all, and changes only its version
// from one push to the next): verify, store in bbolt with its routing
// table, compile, acknowledge. The bundle comes as ops sign it (json), in
// the binary form the exchange sends whole (binary), or as a delta against
// the bundle in force (delta). The state file is in the test's temporary
// directory, so the figures include its disk's syncs.
func BenchmarkApplyFleetBundle(b *testing.B) {
	pub, priv, _ := policy.GenerateKey()
	trust := policy.Trust{Keys: []ed25519.PublicKey{pub}}
	now := time.Now().UTC()
	m := ident.MustMember("MA/MUN/SIM0")
	signed := func(v uint64) *policy.Signed {
		bb := &policy.Bundle{Version: v, Issued: now, Expires: now.Add(time.Hour), Members: []policy.Member{{ID: m, Name: "sim"}}}
		for i := range 1000 {
			bb.Appliances = append(bb.Appliances, policy.Appliance{ID: ident.MustAppliance(fmt.Sprintf("MA/MUN/SIM0:sim-%05d", i))})
		}
		s, err := policy.Sign(bb, priv)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	for _, form := range []string{"json", "binary", "delta"} {
		b.Run(form, func(b *testing.B) {
			st, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			a := &Appliance{store: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)), trust: trust}
			bundles := make([]*policy.Signed, b.N+1)
			for i := range bundles {
				bundles[i] = signed(uint64(i + 1))
			}
			// The frames are made before timing: the exchange makes each
			// once for the whole fleet.
			first, _ := bundles[0].MarshalBinary()
			if ack := a.Policy(first); ack.Error != "" {
				b.Fatal(ack.Error)
			}
			frames := make([]func() wire.PolicyAck, b.N)
			for i := range frames {
				frames[i] = prepare(b, form, a, bundles[i], bundles[i+1], trust, now)
			}
			b.ResetTimer()
			for i := range b.N {
				if ack := frames[i](); ack.Error != "" || ack.Applied != uint64(i+2) {
					b.Fatalf("%+v", ack)
				}
			}
		})
	}
}

// prepare encodes next in the given form, ready to apply onto prev.
func prepare(b *testing.B, form string, a *Appliance, prev, next *policy.Signed, trust policy.Trust, now time.Time) func() wire.PolicyAck {
	switch form {
	case "json":
		raw, err := next.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		return func() wire.PolicyAck { return a.Policy(raw) }
	case "binary":
		raw, err := next.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		return func() wire.PolicyAck { return a.Policy(raw) }
	}
	p, err := prev.VerifyOver(trust, now, nil)
	if err != nil {
		b.Fatal(err)
	}
	q, err := next.VerifyOver(trust, now, p)
	if err != nil {
		b.Fatal(err)
	}
	d, err := policy.NewDelta(p, q)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := d.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	return func() wire.PolicyAck { return a.PolicyDelta(raw) }
}
