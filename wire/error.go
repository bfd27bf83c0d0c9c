package wire

import (
	"fmt"
	"io"

	"github.com/quic-go/quic-go"
)

// Error is a typed failure sent instead of a response head, or instead of
// an Enrolled answer. Code is one of the stable codes of package problem;
// Detail is a sentence for the person who reads it.
type Error struct {
	Code       string `json:"code"`
	Detail     string `json:"detail"`
	Hop        string `json:"hop,omitempty"`            // "exchange" or "provider": where it was decided
	RetryAfter Millis `json:"retry_after_ms,omitempty"` // at most MaxRetryAfter once decoded
}

func (e *Error) Error() string {
	if e.Hop != "" {
		return fmt.Sprintf("%s (at the %s): %s", e.Code, e.Hop, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

// WriteError writes e as an error frame.
func WriteError(w io.Writer, e *Error) error { return WriteJSON(w, FrameError, e) }

// DecodeError decodes an error frame's payload.
func DecodeError(payload []byte) (*Error, error) {
	var e Error
	if err := DecodeJSON(FrameError, payload, &e); err != nil {
		return nil, err
	}
	if e.Code == "" {
		return nil, fmt.Errorf("%w: error frame without code", ErrMalformed)
	}
	return &e, nil
}

// Stream error codes, sent with RESET_STREAM and STOP_SENDING when a
// request is abandoned after its head was sent. They travel hop by hop so
// that each side learns why the other stopped.
const (
	CodeCanceled     quic.StreamErrorCode = 0x100 // the caller went away
	CodeTimeout      quic.StreamErrorCode = 0x101 // the request's deadline passed
	CodeBackend      quic.StreamErrorCode = 0x102 // the provider's backend failed mid-body
	CodeBodyTooLarge quic.StreamErrorCode = 0x103 // the request body exceeded the limit
	CodeInternal     quic.StreamErrorCode = 0x104 // a bug or resource limit on the resetting side
	CodeProtocol     quic.StreamErrorCode = 0x105 // the peer broke the wire format
	CodeTunnelLost   quic.StreamErrorCode = 0x106 // a tunnel further along the path broke
)

// Connection close codes.
const (
	CloseNormal     quic.ApplicationErrorCode = 0x0
	CloseShutdown   quic.ApplicationErrorCode = 0x2 // the exchange or appliance is stopping
	CloseUnenrolled quic.ApplicationErrorCode = 0x3 // the certificate names no known appliance
	CloseHeartbeat  quic.ApplicationErrorCode = 0x4 // the control stream stopped answering
	CloseProtocol   quic.ApplicationErrorCode = 0x5 // the peer broke the wire format
	// CloseRevoked: the exchange refuses this key or certificate for good
	// (ops revoked the appliance, or enrolled another in its place); the
	// reason says which and when.
	CloseRevoked quic.ApplicationErrorCode = 0x6
	// CloseBusy: the exchange refuses the connection for now because a
	// bound of its limits is reached (too many tunnels of this appliance,
	// too many enrollments at once); the reason says which. Try again later.
	CloseBusy quic.ApplicationErrorCode = 0x7
)
