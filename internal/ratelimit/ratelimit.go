// Package ratelimit enforces the rate limits and quotas of policy rules:
// one token bucket per (who, rule, limit), refilled continuously, so that a
// limit of 100 a minute allows bursts of up to 100 and then 100 a minute.
package ratelimit

import (
	"sync"
	"time"

	"github.com/babgate/bab/policy"
)

// Limiter holds the buckets of one policy version; a new version starts
// fresh ones, since rule numbers and limits may have changed.
type Limiter struct {
	mu      sync.Mutex
	version uint64
	buckets map[key]*bucket
}

type key struct {
	who   string
	rule  int
	limit int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Take spends one call of who under rule, whose limits are limits, at now.
// It reports whether every limit allowed it, and otherwise how long until
// one would. A refused call spends nothing.
func (l *Limiter) Take(version uint64, who string, rule int, limits []policy.Limit, now time.Time) (ok bool, retryAfter time.Duration) {
	if len(limits) == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || l.version != version {
		l.buckets, l.version = map[key]*bucket{}, version
	}
	bs := make([]*bucket, len(limits))
	for i, lim := range limits {
		k := key{who, rule, i}
		b := l.buckets[k]
		if b == nil {
			b = &bucket{tokens: float64(lim.Requests), last: now}
			l.buckets[k] = b
		}
		rate := float64(lim.Requests) / float64(lim.PerSeconds) // tokens a second
		b.tokens = min(float64(lim.Requests), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
		if b.tokens < 1 {
			wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
			retryAfter = max(retryAfter, wait)
		}
		bs[i] = b
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, b := range bs {
		b.tokens--
	}
	return true, 0
}
