package ratelimit

import (
	"errors"
	"testing"
	"time"

	"github.com/babgate/bab/policy"
)

// memStore is a Store in memory that counts its writes.
type memStore struct {
	recs   map[string][]byte
	writes int
	fail   error
}

func (m *memStore) LimitCounters() (map[string][]byte, error) { return m.recs, nil }

func (m *memStore) SetLimitCounters(recs map[string][]byte) error {
	if m.fail != nil {
		return m.fail
	}
	m.recs = recs
	m.writes++
	return nil
}

// TestQuotaSurvivesARestart: what a day's quota spent is saved by a flush
// and restored by the next process; a minute's rate is not saved.
func TestQuotaSurvivesARestart(t *testing.T) {
	quota := []policy.Limit{{Requests: 5, PerSeconds: 60}, {Requests: 3, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	st := &memStore{}
	var before Limiter
	for range 3 {
		before.Take(rabat, ruleA, quota, now)
	}
	before.Take(ident0, ruleB, quota, now) // an appliance's own count
	if err := before.Flush(st, now); err != nil {
		t.Fatal(err)
	}
	if len(st.recs) != 2 {
		t.Fatalf("saved %d counts, want the 2 daily ones", len(st.recs))
	}

	var after Limiter
	if err := after.Restore(st); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if ok, retry := after.Take(rabat, ruleA, quota, now); ok || retry < 7*time.Hour {
		t.Fatalf("after a restart: ok=%v retry=%s, want the quota still spent", ok, retry)
	}
	if ok, _ := after.Take(ident0, ruleB, quota, now); !ok {
		t.Fatal("the appliance's count, with quota left, refused")
	}
	if ok, _ := after.Take(ident0, ruleB, quota, now); !ok {
		t.Fatal("the appliance's count, with quota left, refused")
	}
	if ok, _ := after.Take(ident0, ruleB, quota, now); ok {
		t.Fatal("the appliance's restored count allowed more than its quota")
	}
}

// TestFlushWritesOnlyChanges: an idle limiter does not write, and buckets
// that refilled are forgotten, in memory and in the store.
func TestFlushWritesOnlyChanges(t *testing.T) {
	quota := []policy.Limit{{Requests: 2, PerSeconds: 3600}}
	rate := []policy.Limit{{Requests: 2, PerSeconds: 60}}
	now := time.Unix(1_800_000_000, 0)
	st := &memStore{}
	var l Limiter
	l.Take(rabat, ruleA, quota, now)
	l.Take(rabat, ruleB, rate, now)
	for range 3 {
		if err := l.Flush(st, now); err != nil {
			t.Fatal(err)
		}
	}
	if st.writes != 1 {
		t.Fatalf("%d writes for one change, want 1", st.writes)
	}
	l.Take(rabat, ruleB, rate, now) // a minute's rate: nothing to save
	if err := l.Flush(st, now); err != nil || st.writes != 1 {
		t.Fatalf("a rate's call was written: %v, %d writes", err, st.writes)
	}
	now = now.Add(time.Hour)
	if err := l.Flush(st, now); err != nil {
		t.Fatal(err)
	}
	if len(l.buckets) != 0 || len(st.recs) != 0 || st.writes != 2 {
		t.Fatalf("after both refilled: %d buckets, %d saved, %d writes; want none, none, 2", len(l.buckets), len(st.recs), st.writes)
	}
}

// TestFailedFlushTriesAgain: a write that failed is written by the next
// flush, although nothing changed in between.
func TestFailedFlushTriesAgain(t *testing.T) {
	quota := []policy.Limit{{Requests: 2, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	st := &memStore{fail: errors.New("disk full")}
	var l Limiter
	l.Take(rabat, ruleA, quota, now)
	if err := l.Flush(st, now); err == nil {
		t.Fatal("a failed write reported no error")
	}
	st.fail = nil
	if err := l.Flush(st, now); err != nil || st.writes != 1 {
		t.Fatalf("second flush: %v, %d writes", err, st.writes)
	}
}

// TestRestoreSkipsDamagedCounts: a count that cannot be read is reported
// and skipped; the others are restored.
func TestRestoreSkipsDamagedCounts(t *testing.T) {
	quota := []policy.Limit{{Requests: 1, PerSeconds: 86400}}
	now := time.Unix(1_800_000_000, 0)
	st := &memStore{}
	var l Limiter
	l.Take(rabat, ruleA, quota, now)
	if err := l.Flush(st, now); err != nil {
		t.Fatal(err)
	}
	st.recs["short"] = []byte{1}
	for k, v := range st.recs {
		if k != "short" {
			st.recs[k+"x"] = v // a member identifier that does not parse
		}
	}
	var after Limiter
	if err := after.Restore(st); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Restore = %v, want ErrCorrupt", err)
	}
	if ok, _ := after.Take(rabat, ruleA, quota, now); ok {
		t.Fatal("the readable count was not restored")
	}
}
