package appliance

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// maxTimeoutSecs is the most whole seconds a time.Duration holds; more
// would wrap round when multiplied out, possibly to a short timeout.
const maxTimeoutSecs = math.MaxInt64 / int64(time.Second)

// parseTimeout reads a Bab-Timeout value v: a Go duration such as "45s",
// or whole seconds. It returns def for an empty v and caps the result at
// max. A value too long for a time.Duration is refused, in either form.
func parseTimeout(v string, def, max time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		// Out of int64's range, ParseInt gives the nearest int64, which
		// the checks below refuse with the right reason.
		secs, serr := strconv.ParseInt(v, 10, 64)
		switch {
		case serr != nil && !errors.Is(serr, strconv.ErrRange):
			return 0, fmt.Errorf("Bab-Timeout %q: give a duration such as 45s or whole seconds", v)
		case secs <= 0:
			return 0, fmt.Errorf("Bab-Timeout %q must be positive", v)
		case secs > maxTimeoutSecs:
			return 0, fmt.Errorf("Bab-Timeout %q is longer than any timeout can be; this gateway allows at most %s", v, max)
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("Bab-Timeout %q must be positive", v)
	}
	return min(d, max), nil
}
