package appliance

import (
	"context"
	"time"
)

// The rate limiter's quotas survive a restart: their counts are restored
// at start, saved every ratelimit.FlushEvery while the appliance runs and
// once more when it stops, after its last request.

func (a *Appliance) restoreLimits() {
	if err := a.limits.Restore(a.store); err != nil {
		a.log.Warn("some quota counts could not be read; those start again", "subsys", "ratelimit", "err", err)
	}
}

func (a *Appliance) keepLimits(ctx context.Context) {
	a.limits.Keep(ctx, a.store, a.log.With("subsys", "ratelimit"))
}

func (a *Appliance) flushLimits() {
	if err := a.limits.Flush(a.store, time.Now()); err != nil {
		a.log.Error("saving the quota counts at stop failed; the next start forgets the calls since the last save", "subsys", "ratelimit", "err", err)
	}
}
