package seal

import "errors"

var (
	// ErrUnknownKey means a handshake message was signed with a key that
	// the ops-signed policy does not list for the appliance it names (or
	// lists no appliance of that name): someone, perhaps the exchange,
	// plays an appliance it is not.
	ErrUnknownKey = errors.New("seal: key not the one the policy lists for this appliance")
	// ErrBadSignature means a handshake message's signature does not
	// verify with the key it carries: it was altered on the way.
	ErrBadSignature = errors.New("seal: handshake signature does not verify")
	// ErrStale means a hello or reply was made too long ago (or too far in
	// the future) for this side's clock: it may be a replay.
	ErrStale = errors.New("seal: handshake message too old or from the future")
	// ErrNotProvider means the reply came from an appliance the policy
	// does not route the service to: the handshake was redirected.
	ErrNotProvider = errors.New("seal: reply from an appliance that does not serve the service")
	// ErrWrongReply means the reply answers another hello.
	ErrWrongReply = errors.New("seal: reply answers another hello")
	// ErrTampered means a sealed head or piece of body does not open: it
	// was altered, swapped with another request's, or sealed with other
	// keys.
	ErrTampered = errors.New("seal: sealed data altered or not for this request")
	// ErrReplayed means a request's number was seen before in its session.
	ErrReplayed = errors.New("seal: request replayed")
	// ErrTruncated means a sealed body ended without its last piece.
	ErrTruncated = errors.New("seal: sealed body cut off")
	// ErrExpired means the session's lifetime is over; the consumer makes
	// a new one.
	ErrExpired = errors.New("seal: session expired")
	// ErrMalformed means a handshake message or sealed frame is not well
	// formed.
	ErrMalformed = errors.New("seal: malformed")
)
