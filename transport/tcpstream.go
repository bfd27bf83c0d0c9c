package transport

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-yamux/v5"
	"github.com/quic-go/quic-go"
)

// tcpStream gives a yamux stream QUIC's half-closed semantics. yamux
// ends a stream's two directions together on a reset, so a cancelled
// direction is told with a signal (RESET, STOP_SENDING) and the yamux
// stream is kept until both directions are finished; then it is freed,
// with a yamux reset carrying finalCode if our write direction was
// cancelled (its FIN was never sent), or locally otherwise.
type tcpStream struct {
	c      *tcpConn
	ys     *yamux.Stream
	id     uint32
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu          sync.Mutex
	readErr     error // reads fail with it: our CancelRead, the peer's RESET, the connection's end
	readDone    bool  // the peer's write direction is finished: EOF read, or RESET received
	writeErr    error // writes fail with it: our CancelWrite, the peer's STOP_SENDING, the connection's end
	writeDone   bool  // our write direction is finished: FIN or RESET sent
	writeReset  bool  // ... with a RESET, so that no FIN went out
	final       bool
	rdl         time.Time // the caller's read deadline
	reading     bool      // a Read is under way
	readSignal  chan struct{}
	writeSignal chan struct{}
}

// finalCode marks the yamux reset that frees a stream whose write
// direction was cancelled: the code that counts came before it as a RESET
// signal.
const finalCode = 0xBAB0F1

// past is a deadline that has passed, to wake a blocked Read or Write.
var past = time.Unix(1, 0)

func newTCPStream(c *tcpConn, ys *yamux.Stream) *tcpStream {
	s := &tcpStream{
		c: c, ys: ys, id: ys.StreamID(),
		readSignal: make(chan struct{}), writeSignal: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancelCause(c.ctx)
	return s
}

func (s *tcpStream) streamError(code StreamErrorCode, remote bool) error {
	return &quic.StreamError{StreamID: quic.StreamID(s.id), ErrorCode: code, Remote: remote}
}

func (s *tcpStream) Read(p []byte) (int, error) {
	if err := s.readFailure(); err != nil {
		return 0, err
	}
	s.setReading(true)
	n, err := s.ys.Read(p)
	s.setReading(false)
	if err == nil && n > 0 && s.atEOF() {
		err = io.EOF // with the last bytes, as QUIC does: a reader that stops there frees the stream
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		s.mu.Lock()
		s.readDone = true
		s.mu.Unlock()
		s.maybeFree()
		return n, io.EOF
	}
	return n, s.ioError(err, s.readFailure, s.readSignal)
}

func (s *tcpStream) Write(p []byte) (int, error) {
	if err := s.writeFailure(); err != nil {
		return 0, err
	}
	n, err := s.ys.Write(p)
	if err != nil {
		return n, s.ioError(err, s.writeFailure, s.writeSignal)
	}
	return n, nil
}

func (s *tcpStream) setReading(on bool) {
	s.mu.Lock()
	s.reading = on
	s.mu.Unlock()
}

// sweep frees a stream whose caller read everything but stopped before
// the peer's FIN came (a body of known length, say), or cancelled its
// reads after the peer had finished and forgotten the stream (so that no
// RESET answers the STOP_SENDING): the connection's sweeper calls it now
// and then for streams whose write direction ended.
func (s *tcpStream) sweep() {
	s.mu.Lock()
	idle := s.writeDone && !s.readDone && !s.reading && !s.final
	s.mu.Unlock()
	if !idle || !s.atEOF() {
		return
	}
	s.mu.Lock()
	s.readDone = true
	s.mu.Unlock()
	s.maybeFree()
}

// atEOF reports whether the peer's FIN came and everything before it was
// read, without waiting: a read of nothing with a deadline that passed.
// After our CancelRead, what came is discarded first.
func (s *tcpStream) atEOF() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readDone || s.reading {
		return false // a Read under way would be woken by the deadline
	}
	cancelled := s.readErr != nil
	_ = s.ys.SetReadDeadline(past)
	var err error
	if cancelled {
		var scratch [4096]byte
		for err == nil {
			_, err = s.ys.Read(scratch[:])
		}
	} else {
		_, err = s.ys.Read(nil)
		_ = s.ys.SetReadDeadline(s.rdl)
	}
	return err == io.EOF
}

func (s *tcpStream) readFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readErr
}

func (s *tcpStream) writeFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writeErr == nil && s.writeDone {
		return errWriteClosed
	}
	return s.writeErr
}

var errWriteClosed = errors.New("tcp: write on closed stream")

// ioError turns an error of yamux into QUIC's: a direction that failed
// (which is also why a blocked call was woken), a deadline, a reset, or
// the connection's end.
func (s *tcpStream) ioError(err error, failure func() error, signal <-chan struct{}) error {
	if f := failure(); f != nil {
		return f
	}
	if errors.Is(err, yamux.ErrTimeout) {
		return os.ErrDeadlineExceeded
	}
	var se *yamux.StreamError
	if errors.As(err, &se) && se.Remote {
		if se.ErrorCode != finalCode {
			return s.refused(StreamErrorCode(se.ErrorCode))
		}
		// The signal with the real code is already on its way, ahead of
		// this reset on the same connection.
		select {
		case <-signal:
		case <-s.c.done:
		case <-time.After(5 * time.Second):
		}
		if f := failure(); f != nil {
			return f
		}
		return s.streamError(0, true)
	}
	return s.c.sessionError(err)
}

func (s *tcpStream) Close() error {
	s.mu.Lock()
	if s.writeErr != nil {
		err := s.writeErr
		s.mu.Unlock()
		return err
	}
	if s.writeDone {
		s.mu.Unlock()
		return nil
	}
	s.writeDone = true
	s.mu.Unlock()
	err := s.ys.CloseWrite()
	s.cancel(context.Canceled)
	s.maybeFree()
	if err != nil {
		return s.c.sessionError(err)
	}
	return nil
}

func (s *tcpStream) CancelWrite(code StreamErrorCode) {
	s.mu.Lock()
	if s.writeDone || s.writeErr != nil {
		s.mu.Unlock()
		return
	}
	s.writeDone, s.writeReset = true, true
	s.writeErr = s.streamError(code, false)
	_ = s.ys.SetWriteDeadline(past)
	s.mu.Unlock()
	s.c.signal(encodeStream(sigReset, s.id, code))
	s.cancel(s.writeErr)
	s.maybeFree()
}

func (s *tcpStream) CancelRead(code StreamErrorCode) {
	s.mu.Lock()
	if s.readDone || s.readErr != nil {
		s.mu.Unlock()
		return
	}
	s.readErr = s.streamError(code, false)
	_ = s.ys.SetReadDeadline(past)
	s.mu.Unlock()
	// The read direction is finished when the peer's answering RESET
	// comes.
	s.c.signal(encodeStream(sigStop, s.id, code))
}

// remoteReset applies the peer's RESET: our reads fail with its code.
func (s *tcpStream) remoteReset(code StreamErrorCode) {
	s.mu.Lock()
	s.readDone = true
	if s.readErr == nil {
		s.readErr = s.streamError(code, true)
		_ = s.ys.SetReadDeadline(past)
	}
	select {
	case <-s.readSignal:
	default:
		close(s.readSignal)
	}
	s.mu.Unlock()
	s.maybeFree()
}

// remoteStop applies the peer's STOP_SENDING: our writes fail with its
// code, and a RESET answers it (also when our write direction had
// finished, so that the peer knows its read direction is).
func (s *tcpStream) remoteStop(code StreamErrorCode) {
	s.mu.Lock()
	answer := !s.writeReset
	if !s.writeDone && s.writeErr == nil {
		s.writeDone, s.writeReset = true, true
		s.writeErr = s.streamError(code, true)
		_ = s.ys.SetWriteDeadline(past)
	}
	select {
	case <-s.writeSignal:
	default:
		close(s.writeSignal)
	}
	err := s.writeErr
	s.mu.Unlock()
	if answer {
		s.c.signal(encodeStream(sigReset, s.id, code))
	}
	if err == nil {
		err = context.Canceled
	}
	s.cancel(err)
	s.maybeFree()
}

// fail ends both directions when the connection ends.
func (s *tcpStream) fail(cause error) {
	s.mu.Lock()
	if s.readErr == nil && !s.readDone {
		s.readErr = cause
	}
	if s.writeErr == nil {
		s.writeErr = cause
	}
	s.final = true
	// Wake blocked calls now: a local close keeps the session a moment
	// for the CLOSE signal to reach the peer.
	_ = s.ys.SetDeadline(past)
	s.mu.Unlock()
	s.cancel(cause)
}

// refused ends a stream the peer's yamux reset without a signal: one
// over its limit of incoming streams.
func (s *tcpStream) refused(code StreamErrorCode) error {
	err := s.streamError(code, true)
	s.mu.Lock()
	if s.readErr == nil {
		s.readErr = err
	}
	if s.writeErr == nil {
		s.writeErr = err
	}
	s.readDone, s.writeDone, s.final = true, true, true
	s.mu.Unlock()
	s.cancel(err)
	s.c.forget(s.id)
	return err
}

// maybeFree frees the yamux stream once both directions are finished.
func (s *tcpStream) maybeFree() {
	s.mu.Lock()
	if s.final || !s.readDone || !s.writeDone {
		s.mu.Unlock()
		return
	}
	s.final = true
	reset := s.writeReset
	s.mu.Unlock()
	if reset {
		_ = s.ys.ResetWithError(finalCode)
	} else {
		_ = s.ys.CloseRead()
	}
	s.c.forget(s.id)
}

func (s *tcpStream) SetDeadline(t time.Time) error {
	_ = s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

func (s *tcpStream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdl = t
	if s.readErr != nil {
		return nil
	}
	return s.ys.SetReadDeadline(t)
}

func (s *tcpStream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writeErr != nil {
		return nil
	}
	return s.ys.SetWriteDeadline(t)
}

func (s *tcpStream) Context() context.Context { return s.ctx }
