package cli

import "errors"

// ErrControlDenied is matched by the error a command returns when the
// kernel refused it the appliance's control socket: the user is neither
// root nor in the socket's group.
var ErrControlDenied = errors.New("permission denied on the appliance's control socket")
