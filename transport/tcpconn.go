package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/libp2p/go-yamux/v5"
	"github.com/quic-go/quic-go"
)

// tcpConn is a connection over TLS on TCP: a yamux session whose first
// stream (opened by the dialer) carries the signals yamux lacks: a
// stream direction reset with a code (RESET), a request to stop sending
// (STOP_SENDING) and a connection close with a code and a reason (CLOSE).
// See tcpsignal.go.
type tcpConn struct {
	tc     *tls.Conn
	wc     *writeBehind // tc, with writes gathered and reads counted
	mux    *yamux.Session
	client bool

	sigMu sync.Mutex // serialises writes of signals
	sig   *yamux.Stream

	ctx    context.Context
	cancel context.CancelCauseFunc
	accept chan *tcpStream

	mu      sync.Mutex
	streams map[uint32]*tcpStream
	pending map[uint32]pendingSignal // signals for streams not yet accepted
	done    chan struct{}            // closed once cause is set
	cause   error
}

// pendingSignal is a RESET or STOP_SENDING that arrived for an incoming
// stream before the accept loop took it from yamux.
type pendingSignal struct {
	reset, stop         bool
	resetCode, stopCode StreamErrorCode
	at                  time.Time
}

func newTCPConn(ctx context.Context, tc *tls.Conn, client bool, cfg TCPConfig) (*tcpConn, error) {
	if err := greet(ctx, tc, client); err != nil {
		return nil, err
	}
	budget := &muxBudget{max: connWindow}
	mm := func() (yamux.MemoryManager, error) { return &muxSpan{b: budget}, nil }
	var (
		mux *yamux.Session
		err error
	)
	wc := newWriteBehind(tc)
	if client {
		mux, err = yamux.Client(wc, muxConfig(cfg), mm)
	} else {
		mux, err = yamux.Server(wc, muxConfig(cfg), mm)
	}
	if err != nil {
		return nil, err
	}
	sig, err := openSignal(ctx, mux, client)
	if err != nil {
		mux.Close()
		return nil, err
	}
	c := &tcpConn{
		tc: tc, wc: wc, mux: mux, client: client, sig: sig,
		accept:  make(chan *tcpStream, 64),
		streams: make(map[uint32]*tcpStream),
		pending: make(map[uint32]pendingSignal),
		done:    make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	go c.watch()
	go c.readSignals()
	go c.acceptLoop()
	go c.sweep()
	return c, nil
}

// openSignal opens (dialer) or accepts (listener) the signal stream, the
// first stream of the session.
func openSignal(ctx context.Context, mux *yamux.Session, client bool) (*yamux.Stream, error) {
	if client {
		return mux.OpenStream(ctx)
	}
	stop := context.AfterFunc(ctx, func() { mux.Close() })
	defer stop()
	return mux.AcceptStream()
}

// greet exchanges the byte with which a connection starts, before the
// multiplexer: the listener writes it, the dialer waits for it. With TLS
// 1.3 the server checks the client's certificate after the client's
// handshake is over, so this is where a refused certificate shows, as a
// TLS alert, at the dial as on QUIC.
func greet(ctx context.Context, tc *tls.Conn, client bool) error {
	if d, ok := ctx.Deadline(); ok {
		_ = tc.SetDeadline(d)
		defer tc.SetDeadline(time.Time{})
	}
	var b [1]byte
	if !client {
		b[0] = signalVersion
		_, err := tc.Write(b[:])
		return err
	}
	if _, err := io.ReadFull(tc, b[:]); err != nil {
		return tlsAlert(err)
	}
	if b[0] != signalVersion {
		return fmt.Errorf("tcp: signal version %d, want %d", b[0], signalVersion)
	}
	return nil
}

// signalVersion opens the signal stream; another value is another format.
const signalVersion = 1

// tlsAlert turns a TLS alert the peer sent into the error QUIC gives for
// it (a remote crypto error), so that a refused certificate reads the
// same on both transports.
func tlsAlert(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
			return &quic.TransportError{Remote: true, ErrorCode: quic.TransportErrorCode(0x100 + v.Uint()), ErrorMessage: op.Err.Error()}
		}
	}
	return err
}

// watch ends the connection when the session does.
func (c *tcpConn) watch() {
	<-c.mux.CloseChan()
	_, err := c.mux.OpenStream(context.Background()) // gives the session's end
	c.end(lost(err))
}

// lost is the error of a connection that ended without a CLOSE signal, in
// the types wire.ConnectionLost knows.
func lost(err error) error {
	var ga *yamux.GoAwayError
	switch {
	case errors.Is(err, yamux.ErrKeepAliveTimeout), errors.Is(err, yamux.ErrConnectionWriteTimeout):
		return &quic.IdleTimeoutError{}
	case errors.As(err, &ga) && ga.Remote && ga.ErrorCode != 0:
		return &quic.ApplicationError{Remote: true, ErrorCode: ApplicationErrorCode(ga.ErrorCode)}
	}
	if a := tlsAlert(err); a != err {
		return a
	}
	msg := "connection lost"
	if err != nil {
		msg += ": " + err.Error()
	}
	return &quic.TransportError{Remote: true, ErrorCode: quic.NoError, ErrorMessage: msg}
}

// end records why the connection ended (the first reason wins) and fails
// every stream with it.
func (c *tcpConn) end(cause error) {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return
	}
	c.cause = cause
	close(c.done)
	streams := make([]*tcpStream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	c.streams, c.pending = map[uint32]*tcpStream{}, map[uint32]pendingSignal{}
	c.mu.Unlock()
	c.cancel(cause)
	for _, s := range streams {
		s.fail(cause)
	}
}

// failure is why the connection ended, nil while it is up.
func (c *tcpConn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// sessionError turns an error of yamux into the connection's: once the
// session is closed, the recorded cause (which watch sets at once).
func (c *tcpConn) sessionError(err error) error {
	if !c.mux.IsClosed() {
		return err
	}
	<-c.done
	return c.cause
}

func (c *tcpConn) OpenStreamSync(ctx context.Context) (Stream, error) {
	if err := c.failure(); err != nil {
		return nil, err
	}
	ys, err := c.mux.OpenStream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.sessionError(err)
	}
	s := c.register(ys)
	if s == nil {
		ys.Reset()
		return nil, c.failure()
	}
	return s, nil
}

func (c *tcpConn) AcceptStream(ctx context.Context) (Stream, error) {
	select {
	case s := <-c.accept:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, c.cause
	}
}

// acceptLoop takes the peer's streams from yamux as they come, so that
// signals for them find them; AcceptStream hands them out.
func (c *tcpConn) acceptLoop() {
	for {
		ys, err := c.mux.AcceptStream()
		if err != nil {
			return
		}
		s := c.register(ys)
		if s == nil {
			ys.Reset()
			return
		}
		select {
		case c.accept <- s:
		case <-c.done:
			return
		}
	}
}

// register makes a stream for ys and applies signals that came before
// it; nil once the connection has ended.
func (c *tcpConn) register(ys *yamux.Stream) *tcpStream {
	s := newTCPStream(c, ys)
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return nil
	}
	c.streams[s.id] = s
	p, ok := c.pending[s.id]
	delete(c.pending, s.id)
	c.mu.Unlock()
	if ok && p.reset {
		s.remoteReset(p.resetCode)
	}
	if ok && p.stop {
		s.remoteStop(p.stopCode)
	}
	return s
}

// sweepEvery is how often streams left unread at their end are looked for.
const sweepEvery = time.Second

func (c *tcpConn) sweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		c.mu.Lock()
		streams := make([]*tcpStream, 0, len(c.streams))
		for _, s := range c.streams {
			streams = append(streams, s)
		}
		c.mu.Unlock()
		for _, s := range streams {
			s.sweep()
		}
	}
}

func (c *tcpConn) forget(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}

// stream finds the stream a signal is for. A signal for an incoming
// stream the accept loop has not taken yet is kept until it does; one
// for a stream already finished is dropped (kept ones expire after a
// minute, so that those do not pile up).
func (c *tcpConn) stream(id uint32, apply func(*pendingSignal)) *tcpStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.streams[id]; s != nil {
		return s
	}
	incoming := (id%2 == 1) != c.client // yamux: the dialer's streams are odd
	if !incoming || c.cause != nil {
		return nil
	}
	now := time.Now()
	for k, p := range c.pending {
		if now.Sub(p.at) > time.Minute {
			delete(c.pending, k)
		}
	}
	p := c.pending[id]
	p.at = now
	apply(&p)
	c.pending[id] = p
	return nil
}

func (c *tcpConn) CloseWithError(code ApplicationErrorCode, reason string) error {
	if c.failure() != nil {
		return nil
	}
	// The cause first: the peer may hang up as soon as CLOSE reaches it.
	c.end(&quic.ApplicationError{ErrorCode: code, ErrorMessage: reason})
	c.signal(encodeClose(code, reason))
	// The peer hangs up when it has read CLOSE; closing first could lose
	// it (a TCP reset discards what the peer has not read yet).
	go func() {
		select {
		case <-c.mux.CloseChan():
		case <-time.After(2 * time.Second):
		}
		c.mux.Close()
	}()
	return nil
}

// OpenStreams counts the streams not yet finished in both directions.
func (c *tcpConn) OpenStreams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams)
}

func (c *tcpConn) Context() context.Context { return c.ctx }
func (c *tcpConn) TLS() tls.ConnectionState { return c.tc.ConnectionState() }
func (c *tcpConn) RemoteAddr() net.Addr     { return c.tc.RemoteAddr() }
func (c *tcpConn) RTT() time.Duration       { return c.mux.RTT() }
func (c *tcpConn) Kind() Kind               { return TCP }

// muxBudget bounds how far the receive windows of one connection's
// streams may grow together; the first window of a stream is always
// granted (yamux cannot open a stream without it).
type muxBudget struct {
	mu        sync.Mutex
	used, max int
}

// muxSpan is one stream's share of the budget.
type muxSpan struct {
	b    *muxBudget
	held int
}

// initialPriority is the priority yamux reserves a new stream's window with.
const initialPriority = 255

func (s *muxSpan) ReserveMemory(size int, prio uint8) error {
	if prio == initialPriority {
		return nil
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.used+size > s.b.max {
		return fmt.Errorf("tcp: connection window of %d bytes in use", s.b.max)
	}
	s.b.used += size
	s.held += size
	return nil
}

func (s *muxSpan) ReleaseMemory(size int) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	size = min(size, s.held)
	s.held -= size
	s.b.used -= size
}

func (s *muxSpan) Done() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.used -= s.held
	s.held = 0
}

// Received counts the bytes that arrived on the connection, yamux's own
// keep-alives included: a tunnel takes its path to be alive while the
// count grows (transport.Received).
func (c *tcpConn) Received() uint64 { return c.wc.received.Load() }
