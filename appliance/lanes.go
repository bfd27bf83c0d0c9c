package appliance

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// An appliance keeps several connections to each exchange address
// (tunnels.lanes, 4 by default), each a whole tunnel with its hello,
// heartbeats and the exchange's checks: one connection's packets are
// handled by one loop at each end, which several lanes spread over cores,
// and a lane that breaks leaves the others carrying while it comes back.
// What belongs to the exchange rather than to a connection is kept once
// per address in a link: the evidence outbox (the exchange logs a batch
// once, whichever lane it came on, so a batch sent again on another lane
// is not counted twice), and what status, readiness and metrics show.

// link is what the appliance keeps to one exchange address.
type link struct {
	addr  string
	lanes []*tunnel.Tunnel
	out   *evidence.Outbox
	next  atomic.Uint64 // round robin of control frames over the lanes
}

// newLinks makes a link with n lanes for each address, and the evidence
// signer and outboxes.
func (a *Appliance) newLinks(addrs []string, n int) error {
	if err := a.initEvidence(); err != nil {
		return err
	}
	for _, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("exchange address %q: %w", addr, err)
		}
		tc := &tls.Config{
			MinVersion: tls.VersionTLS13,
			RootCAs:    a.roots,
			ServerName: host,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return a.cert.Load(), nil
			},
		}
		l := &link{addr: addr}
		l.out = a.newOutbox(l)
		gate := tunnel.NewGate()
		for i := range max(n, 1) {
			t := tunnel.New(tunnel.Config{Addr: addr, TLS: tc, Handler: a, Log: a.log.With("subsys", "tunnel", "lane", i),
				Evidence: l.out, Gate: gate, Follower: i > 0, Lane: fmt.Sprintf("%s#%d", addr, i+1),
				Dial: tunnel.DialConfig{Mode: transport.Mode(a.cfg.Tunnels.Transport), QUICTimeout: a.cfg.Tunnels.QUICTimeout,
					QUICFailures: a.cfg.Tunnels.QUICFailures, ProbeEvery: a.cfg.Tunnels.QUICProbeEvery}})
			l.lanes = append(l.lanes, t)
			a.tunnels = append(a.tunnels, t)
		}
		a.links = append(a.links, l)
	}
	return nil
}

// sendControl sends a control frame on a lane of the link that is up,
// taking them in turn.
func (l *link) sendControl(ft wire.FrameType, payload []byte) error {
	start := l.next.Add(1)
	for i := range l.lanes {
		t := l.lanes[(int(start)+i)%len(l.lanes)]
		if !t.Connected() {
			continue
		}
		if err := t.SendControl(ft, payload); err == nil {
			return nil
		}
	}
	return tunnel.ErrNotConnected
}

// connected reports whether a lane of the link is up.
func (l *link) connected() bool {
	for _, t := range l.lanes {
		if t.Connected() {
			return true
		}
	}
	return false
}

// state is the link as status shows it: the state of its best lane (up
// and checked before up, up the longest), with the lanes counted, the
// attempts of all and the last error of any.
func (l *link) state() tunnel.State {
	var best tunnel.State
	var attempts, up int
	var lastErr tunnel.State
	for i, t := range l.lanes {
		st := t.State()
		attempts += st.Attempts
		if st.Connected {
			up++
		}
		if st.LastErrorAt.After(lastErr.LastErrorAt) {
			lastErr = st
		}
		if i == 0 || better(st, best) {
			best = st
		}
	}
	best.Attempts, best.Lanes, best.LanesUp = attempts, len(l.lanes), up
	if !best.Connected || lastErr.LastErrorAt.After(best.LastErrorAt) {
		best.LastError, best.LastErrorAt = lastErr.LastError, lastErr.LastErrorAt
	}
	return best
}

// lanesOn counts the link's lanes up over transport kind.
func (l *link) lanesOn(kind string) int {
	n := 0
	for _, t := range l.lanes {
		if st := t.State(); st.Connected && st.Transport == kind {
			n++
		}
	}
	return n
}

// better reports whether lane state a is better news than b.
func better(a, b tunnel.State) bool {
	switch {
	case a.Connected != b.Connected:
		return a.Connected
	case a.Checked != b.Checked:
		return a.Checked
	case a.Connected:
		return a.Since.Before(b.Since)
	}
	return false
}

// linkOf is the link of the lane t, or nil.
func (a *Appliance) linkOf(t *tunnel.Tunnel) *link {
	for _, l := range a.links {
		if l.addr == t.Addr() {
			return l
		}
	}
	return nil
}

// openStream opens a request stream, spreading requests over the lanes of
// every address that are up and checked (for a TPM appliance, the
// exchange routes nothing on a lane before its boot-state verdict), or up
// when none is checked yet; it says on which lane.
func (a *Appliance) openStream(ctx context.Context) (transport.Stream, *tunnel.Tunnel, error) {
	n := len(a.tunnels)
	start := int(a.next.Add(1))
	for _, checked := range []bool{a.tpm != nil, false} {
		for i := range n {
			t := a.tunnels[(start+i)%n]
			if !t.Connected() || checked && !t.Checked() {
				continue
			}
			s, err := t.OpenStream(ctx)
			if err == nil {
				return s, t, nil
			}
		}
		if !checked {
			break
		}
	}
	return nil, nil, tunnel.ErrNotConnected
}
