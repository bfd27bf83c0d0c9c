package ratelimit

import (
	"testing"
	"time"

	"github.com/babgate/bab/policy"
)

func TestBurstThenRate(t *testing.T) {
	var l Limiter
	lim := []policy.Limit{{Requests: 3, PerSeconds: 60}} // 3 a minute
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _ := l.Take(1, "MA/MUN/RABAT", 0, lim, now); !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	ok, retry := l.Take(1, "MA/MUN/RABAT", 0, lim, now)
	if ok || retry != 20*time.Second {
		t.Fatalf("fourth call: ok=%v retry=%s, want refused, retry 20s", ok, retry)
	}
	// Another consumer, or another rule, has its own bucket.
	if ok, _ := l.Take(1, "MA/MUN/SALE", 0, lim, now); !ok {
		t.Fatal("another consumer was limited")
	}
	if ok, _ := l.Take(1, "MA/MUN/RABAT", 1, lim, now); !ok {
		t.Fatal("another rule was limited")
	}
	// 20 s later one call fits again, and only one.
	now = now.Add(20 * time.Second)
	if ok, _ := l.Take(1, "MA/MUN/RABAT", 0, lim, now); !ok {
		t.Fatal("refilled call refused")
	}
	if ok, _ := l.Take(1, "MA/MUN/RABAT", 0, lim, now); ok {
		t.Fatal("more than the refill allowed")
	}
	// A new policy version starts fresh buckets.
	if ok, _ := l.Take(2, "MA/MUN/RABAT", 0, lim, now); !ok {
		t.Fatal("a new version kept the old buckets")
	}
}

func TestAllLimitsMustAllow(t *testing.T) {
	var l Limiter
	// 10 a second but only 2 a day: the quota decides, and a refused call
	// spends no token of the rate.
	lims := []policy.Limit{{Requests: 10, PerSeconds: 1}, {Requests: 2, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	for range 2 {
		if ok, _ := l.Take(1, "c", 0, lims, now); !ok {
			t.Fatal("within both limits, refused")
		}
	}
	ok, retry := l.Take(1, "c", 0, lims, now)
	if ok || retry != 12*time.Hour {
		t.Fatalf("over the quota: ok=%v retry=%s, want 12h", ok, retry)
	}
	if got := l.buckets[key{"c", 0, 0}].tokens; got != 8 {
		t.Fatalf("the refused call spent rate tokens: %v left, want 8", got)
	}
	if ok, _ := l.Take(1, "c", 0, nil, now); !ok {
		t.Fatal("a rule without limits was limited")
	}
}
