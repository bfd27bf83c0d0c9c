package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/wire"
)

// TestNoAnswer tells a path that gave no answer from an exchange that
// answered and refused or closed.
func TestNoAnswer(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("control stream: %w", ErrPathDead), true},
		{fmt.Errorf("dial: %w within 1.5s: %w", ErrNoAnswer, context.DeadlineExceeded), true},
		{fmt.Errorf("dial: %w", &quic.HandshakeTimeoutError{}), true},
		{fmt.Errorf("connection closed: %w", &quic.IdleTimeoutError{}), true},
		{fmt.Errorf("read welcome: %w: %w", ErrNoAnswer, os.ErrDeadlineExceeded), true},
		{fmt.Errorf("dial: %w", &quic.TransportError{Remote: true, ErrorCode: quic.ConnectionRefused}), false},
		{&quic.ApplicationError{Remote: true, ErrorCode: wire.CloseShutdown}, false},
		{fmt.Errorf("%w: certificate revoked", ErrRevoked), false},
		{errors.New("exchange stopped answering heartbeats for 30s"), false},
	} {
		if got := noAnswer(tc.err); got != tc.want {
			t.Errorf("noAnswer(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestNextWait: while the path gives no answer the first lane probes
// within Probe's second however many attempts failed, and a follower
// lane backs off like one whose exchange refuses, up to Backoff's 30 s.
func TestNextWait(t *testing.T) {
	lead := New(Config{Addr: "x:1", TLS: &tls.Config{}})
	follower := New(Config{Addr: "x:1", TLS: &tls.Config{}, Follower: true})
	refused := fmt.Errorf("dial: %w", &quic.TransportError{Remote: true, ErrorCode: quic.ConnectionRefused})
	var leadMax, followerMax, refusedMax time.Duration
	for range 200 {
		leadMax = max(leadMax, lead.nextWait(ErrPathDead))
		followerMax = max(followerMax, follower.nextWait(ErrPathDead))
	}
	other := New(Config{Addr: "x:1", TLS: &tls.Config{}})
	for range 200 {
		refusedMax = max(refusedMax, other.nextWait(refused))
	}
	if !lead.probing || leadMax > time.Second {
		t.Errorf("first lane, path dead: probing %v, longest of 200 waits %s; want probing within 1s", lead.probing, leadMax)
	}
	if followerMax < 10*time.Second || followerMax > 30*time.Second {
		t.Errorf("follower lane, path dead: longest of 200 waits %s, want the back-off's, near 30s", followerMax)
	}
	if other.probing || refusedMax < 10*time.Second || refusedMax > 30*time.Second {
		t.Errorf("refused: probing %v, longest of 200 waits %s; want the back-off's, near 30s", other.probing, refusedMax)
	}
}
