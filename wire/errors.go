package wire

import "errors"

var (
	// ErrMalformed means the peer sent bytes that are not a valid frame or
	// head; the stream is reset because nothing after it can be trusted.
	ErrMalformed = errors.New("wire: malformed frame")
	// ErrOutOfRange means a number the peer sent (a duration, a length, a
	// count, a status) is negative where it may not be, too large for its
	// type, or outside what its field allows. The decoders return it
	// together with ErrMalformed, so callers that reset the stream on
	// ErrMalformed need not know it.
	ErrOutOfRange = errors.New("number out of range")
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
