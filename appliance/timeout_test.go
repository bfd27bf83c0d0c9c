package appliance

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// FuzzParseTimeout reads Bab-Timeout as a local system sends it. An
// accepted value is positive and at most the cap, and is exactly what the
// header says (a Go duration, or whole seconds) capped: never a number
// that wrapped round on the way to a time.Duration.
func FuzzParseTimeout(f *testing.F) {
	for _, v := range []string{
		"", "45s", "1500ms", "12", "10m", "0", "-3s", "soon", "+7", "007", "1h2m3.5s", "1e3",
		"9223372036", "9223372037", "18446744074", "99999999999999999999", "2562047h47m16.854775807s",
		"2562047h47m16.854775808s", "-9223372036854775808", " 5", "5 ",
	} {
		f.Add(v)
	}
	const def, max = 30 * time.Second, 5 * time.Minute
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseTimeout(v, def, max)
		want, ok := timeoutByHand(v, def, max)
		switch {
		case err == nil && (got <= 0 || got > max):
			t.Fatalf("parseTimeout(%q) = %v, outside (0, %v]", v, got, max)
		case err == nil && !ok:
			t.Fatalf("parseTimeout(%q) = %v, want it refused", v, got)
		case err != nil && ok:
			t.Fatalf("parseTimeout(%q) refused it (%v), want %v", v, err, want)
		case err == nil && got != want:
			t.Fatalf("parseTimeout(%q) = %v, want %v", v, got, want)
		}
	})
}

// timeoutByHand is what parseTimeout should make of v, worked out with
// integer checks instead of multiplication.
func timeoutByHand(v string, def, max time.Duration) (time.Duration, bool) {
	if v == "" {
		return def, true
	}
	if d, err := time.ParseDuration(v); err == nil {
		return min(d, max), d > 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/int64(time.Second) {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, max), true
}
