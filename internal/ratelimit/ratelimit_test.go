package ratelimit

import (
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

var (
	rabat = ident.MustMember("MA/MUN/RABAT")
	sale  = ident.MustMember("MA/MUN/SALE")
	ruleA = policy.RuleKey{1}
	ruleB = policy.RuleKey{2}

	ident0 ident.Member // an appliance counts its own calls under the zero Member
)

func TestBurstThenRate(t *testing.T) {
	var l Limiter
	lim := []policy.Limit{{Requests: 3, PerSeconds: 60}} // 3 a minute
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _ := l.Take(rabat, ruleA, lim, now); !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	ok, retry := l.Take(rabat, ruleA, lim, now)
	if ok || retry != 20*time.Second {
		t.Fatalf("fourth call: ok=%v retry=%s, want refused, retry 20s", ok, retry)
	}
	// Another consumer, or another rule, has its own bucket.
	if ok, _ := l.Take(sale, ruleA, lim, now); !ok {
		t.Fatal("another consumer was limited")
	}
	if ok, _ := l.Take(rabat, ruleB, lim, now); !ok {
		t.Fatal("another rule was limited")
	}
	// 20 s later one call fits again, and only one.
	now = now.Add(20 * time.Second)
	if ok, _ := l.Take(rabat, ruleA, lim, now); !ok {
		t.Fatal("refilled call refused")
	}
	if ok, _ := l.Take(rabat, ruleA, lim, now); ok {
		t.Fatal("more than the refill allowed")
	}
	// A changed limit is another bucket, counted from zero.
	if ok, _ := l.Take(rabat, ruleA, []policy.Limit{{Requests: 4, PerSeconds: 60}}, now); !ok {
		t.Fatal("a changed limit kept the old one's count")
	}
}

func TestAllLimitsMustAllow(t *testing.T) {
	var l Limiter
	// 10 a second but only 2 a day: the quota decides, and a refused call
	// spends no token of the rate.
	lims := []policy.Limit{{Requests: 10, PerSeconds: 1}, {Requests: 2, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	for range 2 {
		if ok, _ := l.Take(rabat, ruleA, lims, now); !ok {
			t.Fatal("within both limits, refused")
		}
	}
	ok, retry := l.Take(rabat, ruleA, lims, now)
	if ok || retry != 12*time.Hour {
		t.Fatalf("over the quota: ok=%v retry=%s, want 12h", ok, retry)
	}
	if got := l.buckets[key{rabat, ruleA, lims[0]}].tokens; got != 8 {
		t.Fatalf("the refused call spent rate tokens: %v left, want 8", got)
	}
	if ok, _ := l.Take(rabat, ruleA, nil, now); !ok {
		t.Fatal("a rule without limits was limited")
	}
}

func TestLimitListedTwiceCountsOnce(t *testing.T) {
	var l Limiter
	lims := []policy.Limit{{Requests: 2, PerSeconds: 60}, {Requests: 2, PerSeconds: 60}}
	now := time.Unix(1_800_000_000, 0)
	for i := range 2 {
		if ok, _ := l.Take(rabat, ruleA, lims, now); !ok {
			t.Fatalf("call %d of 2 refused", i+1)
		}
	}
}

func TestTakeDoesNotAllocate(t *testing.T) {
	var l Limiter
	lims := []policy.Limit{{Requests: 1 << 40, PerSeconds: 60}, {Requests: 1 << 40, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	l.Take(rabat, ruleA, lims, now)
	if n := testing.AllocsPerRun(1000, func() { l.Take(rabat, ruleA, lims, now) }); n != 0 {
		t.Fatalf("Take allocates %v times per call of a known bucket, want 0", n)
	}
}
