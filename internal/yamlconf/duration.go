package yamlconf

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a length of time written in YAML as "30s", "5m", "2h",
// "1h30m" or "1d" (a day is 24 hours; "1d12h" is allowed). A bare 0 is
// allowed; other numbers need a unit. Negative durations are refused.
type Duration time.Duration

// days matches a leading whole number of days and the rest of the text.
var days = regexp.MustCompile(`^([0-9]+)d(.*)$`)

// ParseDuration parses a duration as written in a config file.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("invalid duration %s (write a number and a unit, e.g. 30s, 5m, 2h or 1d)", quote(s))
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("invalid duration %s: it must not be negative", quote(s))
	}
	var d time.Duration
	rest := s
	if m := days.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("invalid duration %s: it is too long", quote(s))
		}
		d, rest = time.Duration(n)*24*time.Hour, m[2]
		if rest == "" {
			return d, nil
		}
		if rest[0] < '0' || rest[0] > '9' {
			return 0, bad
		}
	}
	if rest == "" {
		return 0, bad
	}
	more, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	if more < 0 {
		return 0, fmt.Errorf("invalid duration %s: it must not be negative", quote(s))
	}
	if d > math.MaxInt64-more {
		return 0, fmt.Errorf("invalid duration %s: it is too long", quote(s))
	}
	return d + more, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("should be a duration such as 30s, not %s", kindName(n.Kind))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String returns the duration in a form ParseDuration reads back, without
// zero parts at the end: "30s", "5m", "1h30m", "24h".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
