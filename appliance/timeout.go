package appliance

import (
	"fmt"
	"strconv"
	"time"
)

// parseTimeout reads a Bab-Timeout value v: a Go duration such as "45s",
// or whole seconds. It returns def for an empty v and caps the result at
// max.
func parseTimeout(v string, def, max time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.Atoi(v)
		if serr != nil {
			return 0, fmt.Errorf("Bab-Timeout %q: give a duration such as 45s or whole seconds", v)
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("Bab-Timeout %q must be positive", v)
	}
	return min(d, max), nil
}
