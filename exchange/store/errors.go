package store

import "errors"

var (
	// ErrLocked means another bab-exchange process holds the state file.
	ErrLocked = errors.New("store: the state file is in use by another bab-exchange process")
	// ErrCorrupt means a record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrTokenUnknown means no token has that id: it was mistyped or never made.
	ErrTokenUnknown = errors.New("enrollment token unknown (check it was copied whole; ops can make a new one with: bab-exchange token create --member MEMBER)")
	// ErrTokenUsed means the token was redeemed already; tokens are single use.
	ErrTokenUsed = errors.New("enrollment token already used (tokens are single use; ask ops for a new one: bab-exchange token create --member MEMBER)")
	// ErrUnknownAppliance means the registry has no such appliance.
	ErrUnknownAppliance = errors.New("store: unknown appliance")
	// ErrStale means a policy at or above the offered version is current.
	ErrStale = errors.New("store: policy version not newer than the current one")
)
