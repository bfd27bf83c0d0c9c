package exchange

import (
	"context"
	"time"
)

// The members' quotas survive a restart: their counts are restored at
// start, saved every ratelimit.FlushEvery while the exchange runs and once
// more when it stops, after its sessions are closed.

func (x *Exchange) restoreLimits() {
	if err := x.limits.Restore(x.store); err != nil {
		x.log.Warn("some quota counts could not be read; those start again", "subsys", "ratelimit", "err", err)
	}
}

func (x *Exchange) keepLimits(ctx context.Context) {
	x.limits.Keep(ctx, x.store, x.log.With("subsys", "ratelimit"))
}

func (x *Exchange) flushLimits() {
	if err := x.limits.Flush(x.store, time.Now()); err != nil {
		x.log.Error("saving the quota counts at stop failed; the next start forgets the calls since the last save", "subsys", "ratelimit", "err", err)
	}
}
