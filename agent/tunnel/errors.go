package tunnel

import "errors"

var (
	// ErrNotConnected means the tunnel is down at the moment.
	ErrNotConnected = errors.New("tunnel: not connected to the exchange")
	// ErrMovedToQUIC ends a session over TCP when QUIC answers again; the
	// next session dials QUIC.
	ErrMovedToQUIC = errors.New("tunnel: QUIC answers again; moving the tunnel back to it")
	// ErrRevoked means the exchange closed the connection because it
	// refuses this appliance's key or certificate for good: ops revoked
	// it, or enrolled another appliance in its place.
	ErrRevoked = errors.New("revoked by the exchange")
)

var (
	// ErrPathDead means nothing arrived from the exchange for longer than
	// a live path allows while an answer was awaited (liveness.go).
	ErrPathDead = errors.New("tunnel: path to the exchange dead")
	// ErrNoAnswer means a dial got no answer from the exchange in time.
	ErrNoAnswer = errors.New("tunnel: no answer from the exchange")
)
