package exchange

import (
	"sync"
	"sync/atomic"

	"github.com/babgate/bab/ident"
)

// inflight counts what is in flight by key (a consumer appliance, or a
// consumer and provider pair) against a bound, without a lock on the
// request path once a key has been seen.
type inflight struct{ m sync.Map } // key → *atomic.Int64

// acquire takes one unit for key if fewer than max are taken; the caller
// releases it when done.
func (f *inflight) acquire(key any, max int) bool {
	v, ok := f.m.Load(key)
	if !ok {
		v, _ = f.m.LoadOrStore(key, new(atomic.Int64))
	}
	c := v.(*atomic.Int64)
	if c.Add(1) > int64(max) {
		c.Add(-1)
		return false
	}
	return true
}

// release gives back a unit acquire took.
func (f *inflight) release(key any) {
	if v, ok := f.m.Load(key); ok {
		v.(*atomic.Int64).Add(-1)
	}
}

// pairKey is a consumer appliance and the provider appliance it calls.
type pairKey struct{ consumer, provider ident.Appliance }
