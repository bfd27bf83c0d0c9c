package e2e

import (
	"bufio"
	"context"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// claimingTunnel is a tunnel made by hand that claims, in its hello, to
// hold a policy version of the test's choosing.
type claimingTunnel struct {
	conn *quic.Conn
	ctrl *bufio.Reader
}

// dialClaiming opens a tunnel with a held identity whose hello claims
// policy version claim.
func dialClaiming(t *testing.T, l *lab.Lab, h *heldIdentity, claim uint64) *claimingTunnel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, l.Exchange.Addr, h.tls, tunnel.DefaultQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteJSON(ctrl, wire.FrameHello, wire.Hello{Appliance: h.id.Appliance, Software: "test", PolicyVersion: claim}); err != nil {
		t.Fatal(err)
	}
	br := wire.NewReader(ctrl)
	if ft, _, err := wire.ReadFrame(br, 0); err != nil || ft != wire.FrameWelcome {
		t.Fatalf("welcome: %v %v", ft, err)
	}
	return &claimingTunnel{conn: conn, ctrl: br}
}

// awaitPush waits for the exchange to send the whole bundle of version v
// on the control stream.
func (c *claimingTunnel) awaitPush(t *testing.T, v uint64) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			ft, payload, err := wire.ReadFrame(c.ctrl, 0)
			if err != nil {
				done <- err
				return
			}
			if ft != wire.FramePolicy {
				continue
			}
			var p wire.Policy
			if err := wire.DecodeJSON(ft, payload, &p); err != nil {
				done <- err
				return
			}
			raw, err := p.Signed()
			if err != nil {
				done <- err
				return
			}
			s, err := policy.ParseSigned(raw)
			if err != nil {
				done <- err
				return
			}
			if b, err := s.Bundle(); err == nil && b.Version == v {
				done <- nil
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting for policy v%d: %v", v, err)
		}
	case <-time.After(5 * time.Second):
		c.conn.CloseWithError(0, "")
		t.Fatalf("the exchange did not send policy v%d to the appliance that claimed another", v)
	}
}
