package tunnel

import (
	"math/rand/v2"
	"time"
)

// Backoff is capped exponential backoff with full jitter: the n-th wait is
// uniform in [0, min(Max, Min·2ⁿ)]. Full jitter is what keeps hundreds of
// appliances from reconnecting in lockstep after an exchange restart.
type Backoff struct {
	Min, Max time.Duration
	attempt  int
}

// Next returns the wait before the next attempt and counts the attempt.
func (b *Backoff) Next() time.Duration {
	ceil := b.Min << min(b.attempt, 30)
	if ceil > b.Max || ceil <= 0 {
		ceil = b.Max
	}
	b.attempt++
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// Reset starts over after a connection that lived long enough.
func (b *Backoff) Reset() { b.attempt = 0 }
