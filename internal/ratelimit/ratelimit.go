// Package ratelimit enforces the rate limits and quotas of policy rules:
// one token bucket per (who, rule, limit), refilled continuously, so that a
// limit of 100 a minute allows bursts of up to 100 and then 100 a minute.
//
// A bucket is keyed by what the limit means, not by where it sits in a
// bundle: the rule's [policy.RuleKey] and the limit itself. A new policy
// version that leaves a rule and its limit as they were keeps counting in
// the same bucket; a limit that changed is another bucket, counted from
// zero. The buckets of limits of an hour or longer (quotas) are saved
// to a [Store] every [FlushEvery] and restored at start (persist.go).
package ratelimit

import (
	"sync"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// Limiter holds the buckets of every rule and limit in use. The zero
// value is ready to use.
type Limiter struct {
	mu      sync.Mutex
	buckets map[key]*bucket
	// dirty says that a saved bucket changed since the last flush.
	dirty bool
}

// key is what one bucket counts: the calls of who under one rule against
// one of its limits.
type key struct {
	who   ident.Member
	rule  policy.RuleKey
	limit policy.Limit
}

type bucket struct {
	tokens float64
	last   time.Time
}

// refill brings b to now under lim. A clock that went back (b.last after
// now, as after a restart with the wall clock stepped back) refills
// nothing rather than taking tokens away.
func (b *bucket) refill(lim policy.Limit, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(lim.Requests), b.tokens+elapsed.Seconds()*rate(lim))
	}
	b.last = now
}

// rate is lim's refill in tokens a second.
func rate(lim policy.Limit) float64 { return float64(lim.Requests) / float64(lim.PerSeconds) }

// Take spends one call of who (a member at the exchange, which counts a
// member's appliances together; the zero Member at an appliance, which
// counts its own calls) under the rule whose key is rule and whose limits
// are limits, at now. It reports whether every limit allowed it, and
// otherwise how long until one would. A refused call spends nothing.
func (l *Limiter) Take(who ident.Member, rule policy.RuleKey, limits []policy.Limit, now time.Time) (ok bool, retryAfter time.Duration) {
	if len(limits) == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[key]*bucket{}
	}
	var small [4]*bucket // rules have one or two limits: no allocation
	bs := small[:0]
	for _, lim := range limits {
		k := key{who, rule, lim}
		b := l.buckets[k]
		if b == nil {
			b = &bucket{tokens: float64(lim.Requests), last: now}
			l.buckets[k] = b
		}
		b.refill(lim, now)
		if b.tokens < 1 {
			wait := time.Duration((1 - b.tokens) / rate(lim) * float64(time.Second))
			retryAfter = max(retryAfter, wait)
		}
		if !containsBucket(bs, b) { // a limit listed twice counts once
			bs = append(bs, b)
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, b := range bs {
		b.tokens--
	}
	for _, lim := range limits {
		l.dirty = l.dirty || saved(lim)
	}
	return true, 0
}

func containsBucket(bs []*bucket, b *bucket) bool {
	for _, o := range bs {
		if o == b {
			return true
		}
	}
	return false
}
