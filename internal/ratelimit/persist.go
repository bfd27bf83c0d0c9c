package ratelimit

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// FlushEvery is how often the quotas' counts are saved: a daemon that
// stops without its last flush (a crash, a power cut) forgets at most the
// calls of this last interval. A clean stop flushes at the end.
const FlushEvery = 10 * time.Second

// savedFrom is the shortest period of a limit whose bucket is saved. A
// minute's rate forgotten by a restart costs at most a minute's calls;
// a day's quota reset by one would be a day's.
const savedFrom = 3600 // seconds

func saved(lim policy.Limit) bool { return lim.PerSeconds >= savedFrom }

// Store keeps the counts between runs: the appliance's and the exchange's
// bbolt files. Keys and values are this package's encoding, opaque to it.
type Store interface {
	LimitCounters() (map[string][]byte, error)
	// SetLimitCounters replaces every saved count with these.
	SetLimitCounters(map[string][]byte) error
}

// Restore loads the counts st holds into l; it runs once at start, before
// any call is counted. A count it cannot read is skipped (and the error
// says how many were), so that a damaged record costs that count only.
func (l *Limiter) Restore(st Store) error {
	recs, err := st.LimitCounters()
	if err != nil {
		return fmt.Errorf("restore rate-limit counts: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[key]*bucket, len(recs))
	}
	bad := 0
	for k, v := range recs {
		bk, b, ok := decode([]byte(k), v)
		if !ok {
			bad++
			continue
		}
		l.buckets[bk] = b
	}
	if bad > 0 {
		return fmt.Errorf("restore rate-limit counts: %w: %d of %d", ErrCorrupt, bad, len(recs))
	}
	return nil
}

// Flush saves the quotas' counts to st if any changed since the last
// flush. It also forgets the buckets that have refilled, whatever their
// period: a full bucket is what a new one would be, and rules that a push
// removed leave nothing behind once theirs are full.
func (l *Limiter) Flush(st Store, now time.Time) error {
	recs, changed := l.snapshot(now)
	if !changed {
		return nil
	}
	if err := st.SetLimitCounters(recs); err != nil {
		l.mu.Lock()
		l.dirty = true // the next flush tries again
		l.mu.Unlock()
		return fmt.Errorf("save rate-limit counts: %w", err)
	}
	return nil
}

// snapshot sweeps the full buckets and, if a saved one changed, encodes
// the saved buckets.
func (l *Limiter) snapshot(now time.Time) (map[string][]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		b.refill(k.limit, now)
		if b.tokens >= float64(k.limit.Requests) {
			delete(l.buckets, k)
			l.dirty = l.dirty || saved(k.limit)
		}
	}
	if !l.dirty {
		return nil, false
	}
	l.dirty = false
	recs := map[string][]byte{}
	for k, b := range l.buckets {
		if saved(k.limit) {
			kb, vb := encode(k, b)
			recs[string(kb)] = vb
		}
	}
	return recs, true
}

// Keep flushes l to st every FlushEvery until ctx ends. The daemon flushes
// once more after its last request (Flush), which Keep cannot know of.
func (l *Limiter) Keep(ctx context.Context, st Store, log *slog.Logger) {
	tick := time.NewTicker(FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if err := l.Flush(st, now); err != nil {
				log.Error("saving the quotas' counts failed; a restart now would forget the calls since the last save", "err", err)
			}
		}
	}
}

// The stored form of a bucket. Key: the rule key (16 bytes), the limit's
// requests and period (8 bytes each, big endian), then who (the member's
// identifier, empty for an appliance's own count). Value: a format byte
// (1), the tokens left (float64 bits) and when they were counted (Unix
// nanoseconds), 8 bytes each.
const (
	keyFixed    = len(policy.RuleKey{}) + 16
	valueLen    = 17
	valueFormat = 1
)

func encode(k key, b *bucket) (kb, vb []byte) {
	kb = make([]byte, keyFixed, keyFixed+32)
	copy(kb, k.rule[:])
	binary.BigEndian.PutUint64(kb[16:], uint64(k.limit.Requests))
	binary.BigEndian.PutUint64(kb[24:], uint64(k.limit.PerSeconds))
	kb = append(kb, k.who.String()...)
	vb = make([]byte, valueLen)
	vb[0] = valueFormat
	binary.BigEndian.PutUint64(vb[1:], math.Float64bits(b.tokens))
	binary.BigEndian.PutUint64(vb[9:], uint64(b.last.UnixNano()))
	return kb, vb
}

func decode(kb, vb []byte) (key, *bucket, bool) {
	var k key
	if len(kb) < keyFixed || len(vb) != valueLen || vb[0] != valueFormat {
		return k, nil, false
	}
	copy(k.rule[:], kb)
	k.limit = policy.Limit{Requests: int64(binary.BigEndian.Uint64(kb[16:])), PerSeconds: int64(binary.BigEndian.Uint64(kb[24:]))}
	if who := string(kb[keyFixed:]); who != "" {
		m, err := ident.ParseMember(who)
		if err != nil {
			return k, nil, false
		}
		k.who = m
	}
	tokens := math.Float64frombits(binary.BigEndian.Uint64(vb[1:]))
	if k.limit.Requests < 1 || k.limit.PerSeconds < 1 || !(tokens >= 0) || tokens > float64(k.limit.Requests) {
		return k, nil, false
	}
	return k, &bucket{tokens: tokens, last: time.Unix(0, int64(binary.BigEndian.Uint64(vb[9:])))}, true
}
