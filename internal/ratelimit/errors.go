package ratelimit

import "errors"

// ErrCorrupt means a saved count could not be read: the count starts
// again from a full bucket.
var ErrCorrupt = errors.New("corrupt rate-limit count")
