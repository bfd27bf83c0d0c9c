package wire

import "errors"

var (
	// ErrMalformed means the peer sent bytes that are not a valid frame or
	// head; the stream is reset because nothing after it can be trusted.
	ErrMalformed = errors.New("wire: malformed frame")
	// ErrFrameTooLarge means a frame's declared length exceeds the limit for
	// its place in the protocol.
	ErrFrameTooLarge = errors.New("wire: frame too large")
	// ErrHeadTooLarge means a request or response head has more header
	// fields or more bytes than the wire carries (maxFields, MaxHead); the
	// side that builds it refuses it before anything is sent.
	ErrHeadTooLarge = errors.New("wire: head too large")
	// ErrUnexpectedFrame means a frame arrived where the protocol expects
	// another type.
	ErrUnexpectedFrame = errors.New("wire: unexpected frame")
)
