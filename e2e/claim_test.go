package e2e

import (
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// dialClaiming opens a tunnel with a held identity whose hello claims
// policy version claim; it answers the boot-state checks as the appliance
// would.
func dialClaiming(t *testing.T, l *lab.Lab, h *heldIdentity, claim uint64) *rawTunnel {
	t.Helper()
	return dialTunnel(t, l, h, claim, true)
}

// awaitPush waits for the exchange to send the whole bundle of version v
// on the control stream.
func (c *rawTunnel) awaitPush(t *testing.T, v uint64) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-c.frames:
			if f.ft != wire.FramePolicy {
				continue
			}
			var p wire.Policy
			if err := wire.DecodeJSON(f.ft, f.payload, &p); err != nil {
				t.Fatalf("waiting for policy v%d: %v", v, err)
			}
			raw, err := p.Signed()
			if err != nil {
				t.Fatalf("waiting for policy v%d: %v", v, err)
			}
			s, err := policy.ParseSigned(raw)
			if err != nil {
				t.Fatalf("waiting for policy v%d: %v", v, err)
			}
			if b, err := s.Bundle(); err == nil && b.Version == v {
				return
			}
		case <-deadline:
			c.conn.CloseWithError(0, "")
			t.Fatalf("the exchange did not send policy v%d to the appliance that claimed another", v)
		}
	}
}
