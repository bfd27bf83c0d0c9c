package wire

import (
	"errors"
	"os"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/transport"
)

// ResetCode says which stream error code should be passed on for err, a
// failure seen while reading from or writing to a stream: the peer's own
// code when it reset the stream, CodeTimeout for deadlines, CodeTunnelLost
// when the whole connection went away, CodeCanceled otherwise.
func ResetCode(err error) quic.StreamErrorCode {
	var se *quic.StreamError
	if errors.As(err, &se) {
		return se.ErrorCode
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return CodeTimeout
	}
	if ConnectionLost(err) {
		return CodeTunnelLost
	}
	return CodeCanceled
}

// ConnectionLost reports whether err means the QUIC connection itself ended
// (closed by either side, idle timeout, stateless reset after a peer
// restart), as opposed to one stream being reset.
func ConnectionLost(err error) bool {
	var (
		ae *quic.ApplicationError
		ie *quic.IdleTimeoutError
		te *quic.TransportError
		sr *quic.StatelessResetError
		he *quic.HandshakeTimeoutError
	)
	return errors.As(err, &ae) || errors.As(err, &ie) || errors.As(err, &te) || errors.As(err, &sr) || errors.As(err, &he)
}

// Abort ends both directions of s with code; the peer's reads and writes
// fail with that code.
func Abort(s transport.Stream, code quic.StreamErrorCode) {
	s.CancelRead(code)
	s.CancelWrite(code)
}

// CodeName is a short name for a stream error code, for logs and traces.
func CodeName(c quic.StreamErrorCode) string {
	switch c {
	case CodeCanceled:
		return "canceled"
	case CodeTimeout:
		return "timeout"
	case CodeBackend:
		return "backend"
	case CodeBodyTooLarge:
		return "body_too_large"
	case CodeInternal:
		return "internal"
	case CodeProtocol:
		return "protocol"
	case CodeTunnelLost:
		return "tunnel_lost"
	}
	return "unknown"
}
