package adminsock

import "errors"

var (
	// ErrInUse means a live process answers on the socket's path: another
	// instance of the daemon runs.
	ErrInUse = errors.New("another process is serving this socket")
	// ErrNotSocket means the socket's path holds something else (a file,
	// a directory), which Listen does not remove.
	ErrNotSocket = errors.New("the path exists and is not a socket")
	// ErrPathTooLong means the path does not fit in a Unix socket address
	// (107 bytes on Linux).
	ErrPathTooLong = errors.New("the path is too long for a Unix socket (at most 107 bytes)")
)
