package tunnel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// DialConfig says how a tunnel reaches its exchange: over QUIC, or over
// TLS on TCP where a network blocks UDP.
type DialConfig struct {
	// Mode is auto (the zero value), quic or tcp. Auto dials QUIC first
	// and TCP when QUIC gets no answer within QUICTimeout or failed
	// QUICFailures times in a row; while on TCP it checks QUIC every
	// ProbeEvery and moves the tunnel back when QUIC answers.
	Mode         transport.Mode
	QUICTimeout  time.Duration // 0 is 3 s
	QUICFailures int           // 0 is 2
	ProbeEvery   time.Duration // 0 is 30 s; each wait is jittered by ±20%
	TCP          transport.TCPConfig
}

func (d DialConfig) quicTimeout() time.Duration {
	if d.QUICTimeout > 0 {
		return d.QUICTimeout
	}
	return 3 * time.Second
}

func (d DialConfig) quicFailures() int {
	if d.QUICFailures > 0 {
		return d.QUICFailures
	}
	return 2
}

func (d DialConfig) probeWait() time.Duration {
	every := d.ProbeEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	return every*8/10 + rand.N(every*4/10+1)
}

// dialState is what a tunnel remembers between dials.
type dialState struct {
	mu        sync.Mutex
	quicFails int    // QUIC dials that failed in a row
	onTCP     string // why QUIC does not work ("" while it does): dial TCP first
	moving    transport.Conn
}

// dial connects to the exchange by the transport the configuration and
// what worked so far choose, and records which and why in the state.
// While the path gives no answer (t.probing), each transport gets
// ProbeDial, so that a path that comes back is found within seconds.
func (t *Tunnel) dial(ctx context.Context) (transport.Conn, error) {
	switch t.cfg.Dial.Mode {
	case transport.ModeQUIC:
		conn, err := t.dialQUIC(ctx, 0)
		return t.record(conn, err, "")
	case transport.ModeTCP:
		conn, err := t.dialTCP(ctx)
		return t.record(conn, err, "the configuration sets tunnels.transport: tcp")
	}
	t.dialing.mu.Lock()
	why := t.dialing.onTCP
	t.dialing.mu.Unlock()
	if why != "" {
		conn, err := t.dialTCP(ctx)
		if err == nil || t.probing {
			return t.record(conn, err, why)
		}
	}
	timeout := t.cfg.Dial.quicTimeout()
	conn, qerr := t.dialQUIC(ctx, timeout)
	t.dialing.mu.Lock()
	if qerr == nil {
		t.dialing.quicFails, t.dialing.onTCP = 0, ""
		t.dialing.mu.Unlock()
		return t.record(conn, nil, "")
	}
	t.dialing.quicFails++
	fails := t.dialing.quicFails
	t.dialing.mu.Unlock()
	switch {
	case transport.NoAnswer(qerr):
		why = fmt.Sprintf("QUIC got no answer within %s; UDP may be blocked", min(timeout, t.dialLimit()))
	case fails >= t.cfg.Dial.quicFailures():
		why = fmt.Sprintf("QUIC failed %d times in a row (%v)", fails, qerr)
	default:
		return nil, qerr
	}
	conn, terr := t.dialTCP(ctx)
	if terr != nil {
		return nil, fmt.Errorf("%w; over TCP: %v", qerr, terr)
	}
	t.dialing.mu.Lock()
	t.dialing.onTCP = why
	t.dialing.mu.Unlock()
	t.cfg.Log.Warn("the tunnel runs over TCP", "addr", t.cfg.Addr, "reason", why)
	return t.record(conn, nil, why)
}

// record notes a connection's transport and the reason for it.
func (t *Tunnel) record(conn transport.Conn, err error, why string) (transport.Conn, error) {
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.state.Transport, t.state.TransportReason = string(conn.Kind()), why
	t.mu.Unlock()
	return conn, nil
}

// dialLimit is how long one transport's dial may take: ProbeDial while
// the path gives no answer, ten seconds otherwise.
func (t *Tunnel) dialLimit() time.Duration {
	if t.probing {
		return ProbeDial
	}
	return 10 * time.Second
}

// dialQUIC dials QUIC; a non-zero timeout bounds the handshake.
func (t *Tunnel) dialQUIC(ctx context.Context, timeout time.Duration) (transport.Conn, error) {
	qc := t.cfg.QUIC.Clone()
	if timeout > 0 {
		qc.HandshakeIdleTimeout = timeout
	}
	return t.dialWith(ctx, "", func(ctx context.Context) (transport.Conn, error) {
		return transport.DialQUIC(ctx, t.cfg.Addr, t.cfg.TLS, qc)
	})
}

func (t *Tunnel) dialTCP(ctx context.Context) (transport.Conn, error) {
	return t.dialWith(ctx, " over TCP", func(ctx context.Context) (transport.Conn, error) {
		return transport.DialTCP(ctx, t.cfg.Addr, t.cfg.TLS, t.cfg.Dial.TCP)
	})
}

// dialWith runs one dial within dialLimit; a dial that got no answer in
// time is ErrNoAnswer, which makes the next attempt come soon.
func (t *Tunnel) dialWith(ctx context.Context, over string, dial func(context.Context) (transport.Conn, error)) (transport.Conn, error) {
	limit := t.dialLimit()
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn, err := dial(dctx)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() == nil && transport.NoAnswer(err) {
		err = fmt.Errorf("%w within %s: %w", ErrNoAnswer, limit, err)
	}
	return nil, fmt.Errorf("dial %s%s: %w", t.cfg.Addr, over, err)
}

// quicAgain returns a channel that is closed when QUIC answers again
// while conn, a connection over TCP chosen by auto, is up: the session
// then ends with ErrMovedToQUIC and the next one dials QUIC. The check is
// the probe (a QUIC handshake and one round trip), every ProbeEvery.
// Otherwise the channel is nil.
func (t *Tunnel) quicAgain(ctx context.Context, conn transport.Conn) <-chan struct{} {
	if conn.Kind() != transport.TCP || t.cfg.Dial.Mode == transport.ModeTCP {
		return nil
	}
	ch := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(t.cfg.Dial.probeWait()):
			}
			if res := Probe(ctx, t.cfg.Addr, t.cfg.TLS, t.cfg.Dial.quicTimeout()); res.Outcome != ProbeOK {
				continue
			}
			t.dialing.mu.Lock()
			t.dialing.quicFails, t.dialing.onTCP, t.dialing.moving = 0, "", conn
			t.dialing.mu.Unlock()
			t.cfg.Log.Info("QUIC answers again; moving the tunnel back to it", "addr", t.cfg.Addr)
			close(ch)
			return
		}
	}()
	return ch
}

// hangUp ends a session's connection: at once, or, for one the tunnel is
// leaving for QUIC, once the next connection is up and its streams are
// finished, so that no request fails in the move.
func (t *Tunnel) hangUp(conn transport.Conn) {
	t.dialing.mu.Lock()
	moving := t.dialing.moving == conn
	if moving {
		t.dialing.moving = nil
	}
	t.dialing.mu.Unlock()
	if !moving {
		conn.CloseWithError(wire.CloseShutdown, "appliance stopping")
		return
	}
	go t.drain(conn)
}

// drainMax bounds how long a connection the tunnel left is kept for the
// requests still on it.
const drainMax = time.Minute

func (t *Tunnel) drain(conn transport.Conn) {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), tunnelKey{}, t))
	defer cancel()
	// The exchange may still route a request here until the next
	// connection has said hello.
	go t.acceptStreams(ctx, conn)
	deadline := time.Now().Add(drainMax)
	quiet := 0
	for time.Now().Before(deadline) && quiet < 5 {
		cur := t.conn.Load()
		// The old session's control stream stays open to the end.
		if (cur == nil || *cur != conn) && openStreams(conn) <= 1 {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-conn.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	if cur := t.conn.Load(); cur != nil && *cur == conn {
		t.conn.CompareAndSwap(cur, nil)
	}
	conn.CloseWithError(wire.CloseNormal, "the tunnel moved to QUIC")
}

// openStreams counts a connection's streams not yet finished, where the
// transport tells it.
func openStreams(conn transport.Conn) int {
	if c, ok := conn.(interface{ OpenStreams() int }); ok {
		return c.OpenStreams()
	}
	return 0
}
