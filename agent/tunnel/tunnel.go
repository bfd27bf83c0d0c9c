// Package tunnel keeps an appliance's connection to one exchange up (QUIC,
// or TLS on TCP where UDP is blocked: dial.go): it dials with mutual TLS, runs the control stream (hello, heartbeats,
// policy pushes and acks, certificate renewal), accepts the request streams
// the exchange opens towards this appliance, and reconnects with backoff
// when the connection goes away: at once and often while the path gives
// no answer (a dead path shows within seconds, liveness.go), with backoff
// while the exchange answers and refuses.
package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/internal/workers"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Handler is what the tunnel calls for what arrives from the exchange.
type Handler interface {
	// Hello returns the hello to send on a new connection.
	Hello() wire.Hello
	// Policy applies a pushed bundle and says what came of it.
	Policy(signed []byte) wire.PolicyAck
	// PolicyDelta applies a bundle pushed as a delta (a policy-delta
	// frame's payload) against the bundle in force.
	PolicyDelta(delta []byte) wire.PolicyAck
	// Request serves one request stream opened by the exchange; r reads the
	// stream after its route head. It must end the stream (close or cancel).
	Request(ctx context.Context, s transport.Stream, r *bufio.Reader, route *wire.RouteHead)
	// Attest quotes the boot state for the exchange's check.
	Attest(a wire.Attest) wire.Quote
	// Attested receives the exchange's verdict.
	Attested(v wire.Attested)
}

// Config is one tunnel's configuration.
type Config struct {
	Addr    string
	TLS     *tls.Config // client config; NextProtos is set by the tunnel
	Handler Handler
	Log     *slog.Logger
	// Backoff spaces the attempts while the exchange answers and refuses
	// (busy, say), or closed the connection; Probe those while it gives
	// no answer at all, which are cheap, each a handshake that gives up
	// after ProbeDial.
	Backoff   Backoff
	Probe     Backoff
	QUIC      *quic.Config // nil means DefaultQUICConfig()
	Dial      DialConfig   // QUIC or TCP (dial.go)
	Heartbeat time.Duration
	// QuietAfter and DeadAfter tell a dead path from a quiet one
	// (liveness.go); zero means DefaultQuietAfter and DefaultDeadAfter.
	QuietAfter, DeadAfter time.Duration
	// Gate, if set, is shared by the lanes of one exchange address: a
	// lane that connects opens it, and a Follower lane waiting for a path
	// that gave no answer dials as soon as it opens, leaving the frequent
	// probes to the first lane.
	Gate     *Gate
	Follower bool
	// Lane names the connection in the hello (wire.Hello.Lane).
	Lane string
	// Evidence, if set, is told when a connection comes up and gets the
	// exchange's evidence acknowledgements (package evidence's Outbox,
	// which sends its batches with SendControl).
	Evidence EvidenceOutbox
}

// EvidenceOutbox is what a tunnel tells the outbox of the evidence it
// carries to its exchange.
type EvidenceOutbox interface {
	// Connected says a connection came up: what was not acknowledged goes
	// again.
	Connected()
	// Ack is the exchange's answer to a batch.
	Ack(wire.EvidenceAck)
}

type tunnelKey struct{}

// FromContext is the tunnel a request stream came on, from the context
// the tunnel passes Handler.Request.
func FromContext(ctx context.Context) *Tunnel {
	t, _ := ctx.Value(tunnelKey{}).(*Tunnel)
	return t
}

// DefaultQUICConfig is the QUIC configuration of a tunnel; both ends use
// the same, see wire.QUICConfig.
func DefaultQUICConfig() *quic.Config { return wire.QUICConfig() }

// Tunnel is one exchange connection, kept up by Run.
type Tunnel struct {
	cfg  Config
	conn atomic.Pointer[transport.Conn]
	// probing says the last attempt got no answer: the next dial gives up
	// after ProbeDial.
	probing bool
	// upAt is when the last connection came up (Run's goroutine only).
	upAt time.Time
	// wmu orders writes on the control stream; mu is never held while a
	// write waits, so that status answers while the path is dead.
	wmu sync.Mutex

	mu          sync.Mutex
	ctrl        transport.Stream // written under wmu
	state       State
	dialing     dialState
	renewWaiter chan wire.Renewed
	// queries wait for the answers to trace queries, by id.
	queries   map[uint64]chan tracelog.TraceRecords
	lastQuery uint64
}

// State is what status and metrics show about a tunnel.
type State struct {
	Addr        string    `json:"addr"`
	Connected   bool      `json:"connected"`
	Since       time.Time `json:"since,omitzero"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Exchange    string    `json:"exchange,omitempty"`
	RTT         string    `json:"rtt,omitempty"`
	// Revoked says the exchange refused the last attempt because it
	// revoked this appliance's key or certificate (LastError says how);
	// the tunnel keeps trying, in case ops enroll the appliance again.
	Revoked bool `json:"revoked,omitempty"`
	// Transport is "quic" or "tcp", the transport of the current or last
	// connection; TransportReason says why TCP, in plain words.
	Transport       string `json:"transport,omitempty"`
	TransportReason string `json:"transport_reason,omitempty"`
	// Checked says the exchange has given its boot-state verdict since
	// this connection came up; it routes nothing for a TPM appliance
	// before that.
	Checked bool `json:"checked,omitempty"`
	// Lanes and LanesUp count the connections an appliance keeps to this
	// address, and those up, where the state sums up an address's lanes.
	Lanes   int `json:"lanes,omitempty"`
	LanesUp int `json:"lanes_up,omitempty"`
}

// New makes a tunnel; Run starts it.
func New(cfg Config) *Tunnel {
	if cfg.Backoff.Min == 0 {
		cfg.Backoff = Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	}
	if cfg.Probe.Min == 0 {
		cfg.Probe = Backoff{Min: 250 * time.Millisecond, Max: time.Second}
	}
	if cfg.QuietAfter == 0 {
		cfg.QuietAfter = DefaultQuietAfter
	}
	if cfg.DeadAfter == 0 {
		cfg.DeadAfter = DefaultDeadAfter
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.QUIC == nil {
		cfg.QUIC = DefaultQUICConfig()
	}
	tc := cfg.TLS.Clone()
	tc.NextProtos = []string{wire.ALPNTunnel}
	cfg.TLS = tc
	return &Tunnel{cfg: cfg, state: State{Addr: cfg.Addr}}
}

// Addr is the exchange address this tunnel dials.
func (t *Tunnel) Addr() string { return t.cfg.Addr }

// State returns a snapshot of the tunnel's state.
func (t *Tunnel) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.state
	if c := t.conn.Load(); c != nil {
		s.RTT = (*c).RTT().String()
	}
	return s
}

// Connected reports whether requests can be opened now.
func (t *Tunnel) Connected() bool { return t.conn.Load() != nil }

// Checked reports whether the exchange gave its boot-state verdict on the
// current connection.
func (t *Tunnel) Checked() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state.Connected && t.state.Checked
}

// OpenStream opens a request stream towards the exchange.
func (t *Tunnel) OpenStream(ctx context.Context) (transport.Stream, error) {
	c := t.conn.Load()
	if c == nil {
		return nil, ErrNotConnected
	}
	return (*c).OpenStreamSync(ctx)
}

// ProbeDial is how long a dial waits for the exchange while the path gave
// no answer: its Initial packets go three times, then it gives up and
// the next probe starts within Probe's wait.
const ProbeDial = 1500 * time.Millisecond

// Run keeps the tunnel up until ctx ends. It returns nil on cancellation:
// a tunnel never gives up on its own.
func (t *Tunnel) Run(ctx context.Context) error {
	for {
		start := time.Now()
		var opened <-chan struct{}
		if t.cfg.Gate != nil {
			opened = t.cfg.Gate.wait()
		}
		err := revokedBy(t.session(ctx))
		if ctx.Err() != nil {
			return nil
		}
		t.setDown(err)
		if t.upAt.After(start) && t.cfg.Gate != nil {
			opened = t.cfg.Gate.wait() // this lane opened it itself
		}
		if time.Since(start) > time.Minute {
			t.cfg.Backoff.Reset()
		}
		wait := t.nextWait(err)
		if errors.Is(err, ErrMovedToQUIC) {
			t.cfg.Log.Info("the tunnel moves back to QUIC", "addr", t.cfg.Addr)
			continue
		}
		if errors.Is(err, ErrRevoked) {
			t.cfg.Log.Error("the exchange revoked this appliance; only a new enrollment brings it back", "addr", t.cfg.Addr, "err", err, "retry_in", wait.Round(time.Millisecond))
		} else {
			t.cfg.Log.Warn("tunnel down; reconnecting", "addr", t.cfg.Addr, "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		if !t.probing || !t.cfg.Follower {
			opened = nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		case <-opened:
			t.probing = false // another lane reached the exchange
		}
	}
}

// nextWait is the wait before the next attempt after err: short while
// the exchange gives no answer (a probe, unless this lane follows
// another), the backoff while it answers and refuses.
func (t *Tunnel) nextWait(err error) time.Duration {
	t.probing = noAnswer(err)
	if t.probing && !t.cfg.Follower {
		return t.cfg.Probe.Next()
	}
	return t.cfg.Backoff.Next()
}

func (t *Tunnel) setDown(err error) {
	if !errors.Is(err, ErrMovedToQUIC) { // the old connection serves until the next is up (dial.go)
		t.conn.Store(nil)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctrl = nil
	// A renewal sent on this connection will get no answer: end it now so
	// that it is retried on the next connection.
	if t.renewWaiter != nil {
		t.renewWaiter <- wire.Renewed{Error: "the tunnel went down before the exchange answered"}
		t.renewWaiter = nil
	}
	t.endQueries()
	t.state.Connected = false
	t.state.Revoked = errors.Is(err, ErrRevoked)
	t.state.Since = time.Now()
	t.state.Attempts++
	if err != nil {
		t.state.LastError = err.Error()
		t.state.LastErrorAt = time.Now()
	}
}

// session runs one connection from dial to its end.
func (t *Tunnel) session(ctx context.Context) error {
	conn, err := t.dial(ctx)
	if err != nil {
		return err
	}
	defer t.hangUp(conn)

	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return fmt.Errorf("open control stream: %w", err)
	}
	hello := t.cfg.Handler.Hello()
	hello.Lane = t.cfg.Lane
	if err := wire.WriteJSON(ctrl, wire.FrameHello, hello); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	r := wire.NewReader(ctrl)
	_ = ctrl.SetReadDeadline(time.Now().Add(10 * time.Second))
	ft, payload, err := wire.ReadFrame(r, 0)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ErrNoAnswer, err) // the path died after the handshake
	}
	if err != nil {
		return fmt.Errorf("read welcome: %w", err)
	}
	_ = ctrl.SetReadDeadline(time.Time{})
	if ft == wire.FrameError {
		if we, derr := wire.DecodeError(payload); derr == nil {
			return fmt.Errorf("exchange refused the tunnel: %w", we)
		}
	}
	if ft != wire.FrameWelcome {
		return fmt.Errorf("%w: %s instead of welcome", wire.ErrUnexpectedFrame, ft)
	}
	var welcome wire.Welcome
	if err := wire.DecodeJSON(ft, payload, &welcome); err != nil {
		return err
	}
	heartbeat := t.cfg.Heartbeat
	if d := welcome.Heartbeat.Duration(); d > 0 {
		heartbeat = d
	}

	t.mu.Lock()
	t.ctrl = ctrl
	t.state.Connected, t.state.Revoked, t.state.Checked = true, false, false
	t.state.Since = time.Now()
	t.state.Exchange = welcome.Exchange
	t.mu.Unlock()
	t.conn.Store(&conn)
	t.cfg.Backoff.Reset()
	t.cfg.Probe.Reset()
	t.upAt = time.Now()
	if t.cfg.Gate != nil {
		t.cfg.Gate.open()
	}
	t.cfg.Log.Info("tunnel up", "addr", t.cfg.Addr, "exchange", welcome.Exchange)

	sctx, stop := context.WithCancel(context.WithValue(ctx, tunnelKey{}, t))
	defer stop()
	if t.cfg.Evidence != nil {
		t.cfg.Evidence.Connected()
	}
	go t.acceptStreams(sctx, conn)
	errc := make(chan error, 2)
	lastPong := new(atomic.Int64)
	lastPong.Store(time.Now().UnixNano())
	go func() { errc <- t.readControl(r, lastPong) }()
	go func() { errc <- t.watch(sctx, conn, heartbeat, lastPong) }()
	select {
	case err := <-errc:
		return err
	case <-conn.Context().Done():
		return fmt.Errorf("connection closed: %w", context.Cause(conn.Context()))
	case <-ctx.Done():
		return nil
	case <-t.quicAgain(sctx, conn):
		return ErrMovedToQUIC
	}
}

// revokedBy makes the exchange's revoked close of a connection an
// ErrRevoked with the exchange's reason, so that status can say the
// appliance was revoked rather than that the exchange is unreachable.
func revokedBy(err error) error {
	var ae *quic.ApplicationError
	if errors.As(err, &ae) && ae.Remote && ae.ErrorCode == wire.CloseRevoked {
		return fmt.Errorf("%w: %s", ErrRevoked, strings.TrimPrefix(ae.ErrorMessage, ErrRevoked.Error()+": "))
	}
	return err
}

func (t *Tunnel) writeControl(ft wire.FrameType, v any) error {
	return t.withControl(func(ctrl transport.Stream) error { return wire.WriteJSON(ctrl, ft, v) })
}

// SendControl writes a control frame whose payload is already encoded
// (an evidence batch, say); it fails with ErrNotConnected while the
// tunnel is down.
func (t *Tunnel) SendControl(ft wire.FrameType, payload []byte) error {
	return t.withControl(func(ctrl transport.Stream) error { return wire.WriteFrame(ctrl, ft, payload) })
}

// withControl runs write on the control stream, one write at a time,
// without holding mu while it waits.
func (t *Tunnel) withControl(write func(transport.Stream) error) error {
	t.mu.Lock()
	ctrl := t.ctrl
	t.mu.Unlock()
	if ctrl == nil {
		return ErrNotConnected
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_ = ctrl.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return write(ctrl)
}

func (t *Tunnel) readControl(r *bufio.Reader, lastPong *atomic.Int64) error {
	for {
		ft, payload, err := wire.ReadFrame(r, 0)
		if err != nil {
			return fmt.Errorf("control stream: %w", err)
		}
		switch ft {
		case wire.FramePong:
			lastPong.Store(time.Now().UnixNano())
		case wire.FramePolicy:
			var p wire.Policy
			if err := wire.DecodeJSON(ft, payload, &p); err != nil {
				return err
			}
			signed, err := p.Signed()
			if err != nil {
				return err
			}
			ack := t.cfg.Handler.Policy(signed)
			if err := t.writeControl(wire.FramePolicyAck, ack); err != nil {
				return fmt.Errorf("send policy ack: %w", err)
			}
		case wire.FramePolicyDelta:
			ack := t.cfg.Handler.PolicyDelta(payload)
			if err := t.writeControl(wire.FramePolicyAck, ack); err != nil {
				return fmt.Errorf("send policy ack: %w", err)
			}
		case wire.FrameAttest:
			var at wire.Attest
			if err := wire.DecodeJSON(ft, payload, &at); err != nil {
				return err
			}
			// The TPM may take a while; the control stream keeps reading.
			go func() {
				if err := t.writeControl(wire.FrameQuote, t.cfg.Handler.Attest(at)); err != nil {
					t.cfg.Log.Warn("send quote", "err", err)
				}
			}()
		case wire.FrameAttested:
			var v wire.Attested
			if err := wire.DecodeJSON(ft, payload, &v); err != nil {
				return err
			}
			t.mu.Lock()
			t.state.Checked = true
			t.mu.Unlock()
			t.cfg.Handler.Attested(v)
		case wire.FrameEvidenceAck:
			var a wire.EvidenceAck
			if err := wire.DecodeJSON(ft, payload, &a); err != nil {
				return err
			}
			if t.cfg.Evidence != nil {
				t.cfg.Evidence.Ack(a)
			}
		case wire.FrameRenewed:
			var rn wire.Renewed
			if err := wire.DecodeJSON(ft, payload, &rn); err != nil {
				return err
			}
			t.mu.Lock()
			w := t.renewWaiter
			t.renewWaiter = nil
			t.mu.Unlock()
			if w != nil {
				w <- rn
			}
		case wire.FrameTraceRecords:
			var ans tracelog.TraceRecords
			if err := wire.DecodeJSON(ft, payload, &ans); err != nil {
				return err
			}
			t.traceRecords(ans)
		default:
			// Unknown control frames are skipped so that a newer exchange
			// can add messages without breaking this appliance.
			t.cfg.Log.Debug("ignoring control frame", "type", ft)
		}
	}
}

// streamWorkers serve the exchange's streams; the lanes share them.
var streamWorkers = workers.New()

func (t *Tunnel) acceptStreams(ctx context.Context, conn transport.Conn) {
	for {
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		streamWorkers.Go(func() { t.serveStream(ctx, s) })
	}
}

func (t *Tunnel) serveStream(ctx context.Context, s transport.Stream) {
	r := wire.GetReader(s)
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	ft, payload, err := wire.ReadFrame(r, wire.MaxHead)
	_ = s.SetReadDeadline(time.Time{})
	if err != nil || ft != wire.FrameRoute {
		t.cfg.Log.Warn("bad stream from exchange", "type", ft, "err", err)
		s.CancelRead(wire.CodeProtocol)
		s.CancelWrite(wire.CodeProtocol)
		return
	}
	var route wire.RouteHead
	if err := route.UnmarshalBinary(payload); err != nil {
		t.cfg.Log.Warn("bad route head from exchange", "err", err)
		s.CancelRead(wire.CodeProtocol)
		s.CancelWrite(wire.CodeProtocol)
		return
	}
	t.cfg.Handler.Request(ctx, s, r, &route)
	if route.ContentLength == 0 {
		// Nothing reads r any more. A body may still be read through it
		// by a backend request net/http has not let go of yet: that
		// reader is left to the collector.
		wire.PutReader(r)
	}
}

// Renew asks the exchange for a new certificate over the control stream.
func (t *Tunnel) Renew(ctx context.Context, csr []byte) ([][]byte, error) {
	w := make(chan wire.Renewed, 1)
	t.mu.Lock()
	if t.renewWaiter != nil {
		t.mu.Unlock()
		return nil, errors.New("tunnel: a renewal is already in flight")
	}
	t.renewWaiter = w
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.renewWaiter == w {
			t.renewWaiter = nil
		}
		t.mu.Unlock()
	}()
	if err := t.writeControl(wire.FrameRenew, wire.Renew{CSR: csr}); err != nil {
		return nil, err
	}
	select {
	case rn := <-w:
		if rn.Error != "" {
			return nil, fmt.Errorf("exchange refused renewal: %s", rn.Error)
		}
		return rn.Chain, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
