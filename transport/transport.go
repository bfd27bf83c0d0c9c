// Package transport carries Bab's tunnels: QUIC, or TLS 1.3 over TCP
// where a network blocks UDP. Both give the rest of Bab the same
// connections and streams, with QUIC's semantics: a stream's two
// directions end on their own, each cleanly (a FIN) or cancelled with an
// error code the peer sees; a connection closes with a code and a reason.
// Errors are quic-go's error types on both, so that code that tells a
// reset stream from a lost connection needs to know nothing of the
// transport under it.
package transport

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// StreamErrorCode says why a stream direction was cancelled.
type StreamErrorCode = quic.StreamErrorCode

// ApplicationErrorCode says why a connection was closed.
type ApplicationErrorCode = quic.ApplicationErrorCode

// Stream is one bidirectional stream. Close ends the write direction
// cleanly; CancelWrite ends it with a code (the peer's reads fail with
// it); CancelRead tells the peer to stop sending (its writes fail with
// the code). Context ends when the write direction is closed or
// cancelled, by either side, or the connection goes.
type Stream interface {
	io.Reader
	io.Writer
	Close() error
	CancelRead(StreamErrorCode)
	CancelWrite(StreamErrorCode)
	SetDeadline(time.Time) error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	Context() context.Context
}

// Kind names a transport.
type Kind string

// The transports.
const (
	QUIC Kind = "quic"
	TCP  Kind = "tcp"
)

// Conn is one connection between an appliance and the exchange.
type Conn interface {
	OpenStreamSync(ctx context.Context) (Stream, error)
	AcceptStream(ctx context.Context) (Stream, error)
	// CloseWithError closes the connection; the peer's operations fail
	// with a *quic.ApplicationError carrying code and reason.
	CloseWithError(code ApplicationErrorCode, reason string) error
	// Context ends when the connection does; its cause says why.
	Context() context.Context
	TLS() tls.ConnectionState
	RemoteAddr() net.Addr
	// RTT is the smoothed round-trip time, zero before it is measured.
	RTT() time.Duration
	Kind() Kind
}

// quicConn is a QUIC connection as a Conn.
type quicConn struct{ c *quic.Conn }

// FromQUIC makes a QUIC connection a Conn.
func FromQUIC(c *quic.Conn) Conn { return quicConn{c} }

func (q quicConn) OpenStreamSync(ctx context.Context) (Stream, error) {
	s, err := q.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (q quicConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := q.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (q quicConn) CloseWithError(code ApplicationErrorCode, reason string) error {
	return q.c.CloseWithError(code, reason)
}

func (q quicConn) Context() context.Context { return q.c.Context() }
func (q quicConn) TLS() tls.ConnectionState { return q.c.ConnectionState().TLS }
func (q quicConn) RemoteAddr() net.Addr     { return q.c.RemoteAddr() }
func (q quicConn) RTT() time.Duration       { return q.c.ConnectionStats().SmoothedRTT }
func (q quicConn) Kind() Kind               { return QUIC }

// Received is how much a connection has received so far, in packets of
// any kind, and whether its transport tells: a tunnel takes its path to be
// alive while the count grows (package tunnel's liveness watch).
func Received(c Conn) (uint64, bool) {
	if r, ok := c.(interface{ Received() uint64 }); ok {
		return r.Received(), true
	}
	return 0, false
}

// Received counts every packet that arrived, acknowledgements included.
func (q quicConn) Received() uint64 { return q.c.ConnectionStats().PacketsReceived }
