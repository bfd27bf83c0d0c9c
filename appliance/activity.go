package appliance

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/console"
)

// activitySize is how many recent exchanges the appliance remembers for
// the console's Activity view: an office's last hour or so, in memory
// only, with no payload and no path.
const activitySize = 1024

// activityLog is a ring of the office's recent exchanges, written by each
// request as it ends without a lock: a slot is a pointer swapped in.
type activityLog struct {
	next  atomic.Uint64
	slots [activitySize]atomic.Pointer[console.Activity]
}

func (l *activityLog) add(a *console.Activity) {
	i := l.next.Add(1) - 1
	l.slots[i%activitySize].Store(a)
}

// list returns the remembered exchanges that keep, newest first.
func (l *activityLog) list(keep func(*console.Activity) bool) []console.Activity {
	var out []console.Activity
	for i := range activitySize {
		if a := l.slots[i].Load(); a != nil && keep(a) {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b console.Activity) int { return b.At.Compare(a.At) })
	return out
}

// record ends a request at the gateway: its metrics and its line in the
// office's activity.
func (c *gatewayCall) record(outcome string) {
	d := time.Since(c.start)
	c.rec.Done(outcome, d)
	c.a.activity.add(&console.Activity{At: c.start, Direction: "out", Who: c.system, Service: c.service,
		Outcome: outcome, Duration: d, RequestID: c.id})
}

// record ends a request at the provider side: its metrics and its line in
// the office's activity, naming the calling appliance and its system.
func (c *providerCall) record(outcome string) {
	d := time.Since(c.start)
	c.rec.Done(outcome, d)
	// The consumer as the session authenticated it, or, for a request
	// that did not open, as the exchange named it.
	who := c.route.ConsumerAppliance
	if c.sess != nil {
		who = c.sess.Consumer.String()
	}
	if c.route.ConsumerSystem != "" {
		who += " / " + c.route.ConsumerSystem
	}
	c.a.activity.add(&console.Activity{At: c.start, Direction: "in", Who: who, Service: c.route.Service,
		Outcome: outcome, Duration: d, RequestID: c.route.ID})
}
