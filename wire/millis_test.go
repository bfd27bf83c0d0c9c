package wire_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// A provider appliance chooses retry_after_ms, and the exchange passes its
// error frames on unchanged, so the consumer's gateway must not turn any
// number into a nonsense Retry-After: never negative, never longer than
// the longest limit window.
func TestPeerRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		ms     string // retry_after_ms as sent; "" leaves it out
		want   time.Duration
		header string // the gateway's Retry-After; "" means none
	}{
		{"absent", "", 0, ""},
		{"ordinary", "1500", 1500 * time.Millisecond, "2"},
		{"the longest limit window", "86400000", 24 * time.Hour, "86400"},
		{"just past it", "86400001", 24 * time.Hour, "86400"},
		{"negative", "-5000", 0, ""},
		{"the largest a time.Duration holds", "9223372036854", 24 * time.Hour, "86400"},
		{"more than a time.Duration holds", "9223372036855", 24 * time.Hour, "86400"},
		{"the most negative", "-9223372036854775808", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload := `{"code":"rate_limited","detail":"Slow down.","hop":"provider"`
			if tc.ms != "" {
				payload += `,"retry_after_ms":` + tc.ms
			}
			e, err := wire.DecodeError([]byte(payload + "}"))
			if err != nil {
				t.Fatalf("DecodeError: %v", err)
			}
			got := e.RetryAfter.Duration()
			if got != tc.want {
				t.Errorf("RetryAfter.Duration() = %v, want %v", got, tc.want)
			}
			// What the consumer's gateway does with it.
			rec := httptest.NewRecorder()
			problem.Write(rec, problem.New(problem.Code(e.Code), e.Detail), got)
			if h := rec.Header().Get("Retry-After"); h != tc.header {
				t.Errorf("Retry-After = %q, want %q", h, tc.header)
			}
		})
	}
}

// The welcome's heartbeat sets how often the appliance pings: a peer's
// number outside the range refuses the welcome instead of pinging in a
// busy loop, never, or at a wrapped-round interval.
func TestWelcomeHeartbeat(t *testing.T) {
	tests := []struct {
		ms   string // heartbeat_ms as sent; "" leaves it out
		want time.Duration
		bad  bool
	}{
		{"", 0, false}, // a probe's welcome: the appliance keeps its default
		{"0", 0, false},
		{"10000", 10 * time.Second, false},
		{"100", 100 * time.Millisecond, false},
		{"600000", 10 * time.Minute, false},
		{"99", 0, true},
		{"1", 0, true},
		{"600001", 0, true},
		{"-1", 0, true},
		{"-10000", 0, true},
		{"9223372036854", 0, true},
		{"9223372036855", 0, true},
	}
	for _, tc := range tests {
		payload := `{"exchange":"exchange.example","server_time":"2025-01-02T03:04:05Z"`
		if tc.ms != "" {
			payload += `,"heartbeat_ms":` + tc.ms
		}
		var w wire.Welcome
		err := wire.DecodeJSON(wire.FrameWelcome, []byte(payload+"}"), &w)
		switch {
		case tc.bad && err == nil:
			t.Errorf("heartbeat_ms %s: accepted as %v, want refused", tc.ms, w.Heartbeat.Duration())
		case tc.bad && (!errors.Is(err, wire.ErrMalformed) || !errors.Is(err, wire.ErrOutOfRange)):
			t.Errorf("heartbeat_ms %s: error %v does not match ErrMalformed and ErrOutOfRange", tc.ms, err)
		case !tc.bad && err != nil:
			t.Errorf("heartbeat_ms %s: %v", tc.ms, err)
		case !tc.bad && w.Heartbeat.Duration() != tc.want:
			t.Errorf("heartbeat_ms %s: Duration() = %v, want %v", tc.ms, w.Heartbeat.Duration(), tc.want)
		}
	}
}

// An enrollment answer's policy threshold becomes the number of ops
// signatures the appliance requires; a negative one is refused.
func TestEnrolledThreshold(t *testing.T) {
	for _, tc := range []struct {
		json string
		bad  bool
	}{
		{`{"policy_threshold":2}`, false},
		{`{}`, false},
		{`{"policy_threshold":-1}`, true},
		{`{"error":{"code":"token_used","detail":"d","retry_after_ms":-1}}`, false},
	} {
		var e wire.Enrolled
		err := wire.DecodeJSON(wire.FrameEnrolled, []byte(tc.json), &e)
		if tc.bad != (err != nil) || tc.bad && !errors.Is(err, wire.ErrOutOfRange) {
			t.Errorf("%s: err = %v, want refused: %v", tc.json, err, tc.bad)
		}
		if e.Error != nil && e.Error.RetryAfter != 0 {
			t.Errorf("%s: a nested error kept retry_after_ms %d", tc.json, e.Error.RetryAfter)
		}
	}
}

func TestMillisDuration(t *testing.T) {
	const most = time.Duration(1<<63-1) / time.Millisecond * time.Millisecond
	for _, tc := range []struct {
		m    wire.Millis
		want time.Duration
	}{
		{0, 0}, {1, time.Millisecond}, {-1, 0}, {-1 << 63, 0},
		{9223372036854, most}, {9223372036855, most}, {1<<63 - 1, most},
	} {
		if got := tc.m.Duration(); got != tc.want {
			t.Errorf("Millis(%d).Duration() = %v, want %v", tc.m, got, tc.want)
		}
	}
}
