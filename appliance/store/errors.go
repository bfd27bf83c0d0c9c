package store

import "errors"

var (
	// ErrLocked means another process (usually the running service) holds
	// the state file. Stop it first: systemctl stop bab.
	ErrLocked = errors.New("store: the state file is in use by another bab process (stop the service first: systemctl stop bab)")
	// ErrNotEnrolled means no identity is stored yet: run bab enroll.
	ErrNotEnrolled = errors.New("store: this appliance is not enrolled (run: bab enroll --exchange ADDR --token TOKEN)")
	// ErrCorrupt means a record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrStale means a policy at or above the offered version is stored
	// already; versions never go backwards.
	ErrStale = errors.New("store: policy version not newer than the stored one")
	// ErrConsoleExists means a console of that name was paired before
	// (names are never reused, so that a revoked one stays revoked).
	ErrConsoleExists = errors.New("store: a console of that name was paired before")
	// ErrNoConsole means no console of that name was paired.
	ErrNoConsole = errors.New("store: no such console")
)
