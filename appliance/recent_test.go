package appliance

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestRecentKeepsWarningsAndErrors(t *testing.T) {
	var out bytes.Buffer
	rec := new(recentLog)
	// The inner handler prints errors only: warnings are kept all the same.
	log := slog.New(rec.handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	tun := log.With("subsys", "tunnel")

	log.Info("appliance ready")
	log.Debug("ignoring control frame")
	tun.Warn("tunnel down; reconnecting", "addr", "127.0.0.1:7700", "err", errors.New("dial: timeout"))
	log.WithGroup("policy").Error("storing policy failed", "version", 7, "body", []byte("SECRET PAYLOAD"))

	got := rec.records()
	if len(got) != 2 {
		t.Fatalf("kept %d records, want 2 (the warning and the error): %+v", len(got), got)
	}
	if got[0].Level != "WARN" || got[0].Message != "tunnel down; reconnecting" {
		t.Errorf("first record = %+v", got[0])
	}
	want := []LogAttr{{"subsys", "tunnel"}, {"addr", "127.0.0.1:7700"}, {"err", "dial: timeout"}}
	if fmt.Sprint(got[0].Attrs) != fmt.Sprint(want) {
		t.Errorf("attrs = %v, want %v", got[0].Attrs, want)
	}
	if got[1].Level != "ERROR" || fmt.Sprint(got[1].Attrs) != fmt.Sprint([]LogAttr{{"policy.version", "7"}}) {
		t.Errorf("second record = %+v (byte values must be dropped)", got[1])
	}
	if strings.Contains(out.String(), "tunnel down") || !strings.Contains(out.String(), "storing policy failed") {
		t.Errorf("the inner handler's level was not respected:\n%s", out.String())
	}
	if got[0].Time.IsZero() {
		t.Error("record without time")
	}
}

func TestRecentIsBounded(t *testing.T) {
	rec := new(recentLog)
	log := slog.New(rec.handler(slog.DiscardHandler))
	long := strings.Repeat("é", recentValue) // two bytes a rune: cut in the middle
	var args []any
	for i := range 3 * recentAttrs {
		args = append(args, fmt.Sprintf("k%d", i), long)
	}
	for i := range 3 * recentRecords {
		log.Warn(fmt.Sprintf("problem %d", i), args...)
	}
	got := rec.records()
	if len(got) != recentRecords {
		t.Fatalf("kept %d records, want %d", len(got), recentRecords)
	}
	for i, r := range got {
		if want := fmt.Sprintf("problem %d", 2*recentRecords+i); r.Message != want {
			t.Errorf("record %d = %q, want %q (the newest, oldest first)", i, r.Message, want)
		}
		if len(r.Attrs) != recentAttrs {
			t.Errorf("record %d kept %d attributes, want %d", i, len(r.Attrs), recentAttrs)
		}
		for _, a := range r.Attrs {
			if len(a.Value) > recentValue+len("…") || !strings.HasSuffix(a.Value, "é…") {
				t.Fatalf("value not cut on a rune boundary to %d bytes: %d bytes, %q", recentValue, len(a.Value), a.Value[len(a.Value)-8:])
			}
		}
	}
}

// TestRecentConcurrent logs and reads from many goroutines; run with -race.
func TestRecentConcurrent(t *testing.T) {
	rec := new(recentLog)
	log := slog.New(rec.handler(slog.DiscardHandler)).With("subsys", "gateway")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				log.Warn("answer cut off", "g", g, "i", i)
				if i%20 == 0 {
					_ = rec.records()
				}
			}
		})
	}
	wg.Wait()
	got := rec.records()
	if len(got) != recentRecords {
		t.Fatalf("kept %d records, want %d", len(got), recentRecords)
	}
	for _, r := range got {
		if len(r.Attrs) != 3 || r.Attrs[0] != (LogAttr{"subsys", "gateway"}) {
			t.Fatalf("record mixed up: %+v", r)
		}
	}
}
