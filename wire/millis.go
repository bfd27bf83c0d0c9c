package wire

import (
	"math"
	"time"
)

// Millis is a duration carried as whole milliseconds in JSON. The number
// comes from a peer, so it is never multiplied out as it is: 9223372036854
// ms fits in an int64 but not, as nanoseconds, in a time.Duration. Each
// frame with a Millis field bounds it when it is decoded (see Welcome and
// Error), and Duration saturates for any value that got past that.
type Millis int64

// maxMillis is the largest millisecond count a time.Duration holds.
const maxMillis = Millis(math.MaxInt64 / int64(time.Millisecond))

// ToMillis converts from time.Duration.
func ToMillis(d time.Duration) Millis { return Millis(d / time.Millisecond) }

// Duration converts to time.Duration: a negative count gives 0, and one too
// large for a time.Duration gives the largest, rather than wrapping round
// to some other duration.
func (m Millis) Duration() time.Duration {
	return time.Duration(min(max(m, 0), maxMillis)) * time.Millisecond
}

// Within reports whether m lies in [lo, hi]. The comparison is made in
// milliseconds, so that no value a peer sends can overflow on the way.
func (m Millis) Within(lo, hi time.Duration) bool {
	return m >= ToMillis(lo) && m <= ToMillis(hi)
}
