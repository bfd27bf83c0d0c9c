package cliargs

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                  now.Add(-24 * time.Hour),
		"90m":                  now.Add(-90 * time.Minute),
		"7d":                   now.AddDate(0, 0, -7),
		"2026-11-01":           time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T08:00:00Z": time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
	} {
		if got, err := When(in, now); err != nil || !got.Equal(want) {
			t.Errorf("When(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-3h", "-2d", "7 d"} {
		if _, err := When(in, now); err == nil {
			t.Errorf("When(%q) took it", in)
		}
	}
}

func TestSetWindow(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	q := url.Values{}
	if err := SetWindow(q, "24h", "", now); err != nil {
		t.Fatal(err)
	}
	if q.Get("since") != "2026-11-26T10:00:00Z" || q.Has("until") {
		t.Errorf("window %v", q)
	}
	if err := SetWindow(url.Values{}, "", "yesterday-ish", now); err == nil || !strings.Contains(err.Error(), "--until") {
		t.Errorf("a bad --until: %v", err)
	}
}
