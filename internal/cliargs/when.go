package cliargs

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// When reads a time back from now (24h, 90m, 7d) or a time of day
// (RFC 3339, or a date as midnight UTC).
func When(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n < 100000 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration back from now (24h, 7d) nor a time (2026-11-30, RFC 3339)", s)
}

// SetWindow sets since and until in q, as RFC 3339 times in UTC, from the
// flags' texts (each read by When; an empty one sets nothing), for the
// trace queries of both command lines.
func SetWindow(q url.Values, since, until string, now time.Time) error {
	for key, text := range map[string]string{"since": since, "until": until} {
		if text == "" {
			continue
		}
		t, err := When(text, now)
		if err != nil {
			return fmt.Errorf("--%s: %w", key, err)
		}
		q.Set(key, t.UTC().Format(time.RFC3339))
	}
	return nil
}
