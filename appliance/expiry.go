package appliance

import (
	"context"
	"fmt"
	"time"
)

// expiryWatch warns as the policy's expiry comes near, once per configured
// threshold, and after the expiry, while the policy is still enforced in a
// degraded state, every hour until a newer bundle arrives.
func (a *Appliance) expiryWatch(ctx context.Context) {
	warned := map[string]bool{} // "v7/24h0m0s": that threshold was logged for that version
	var lastDegraded time.Time
	for {
		if p := a.policy.Load(); p != nil {
			now := time.Now()
			left := p.Expires().Sub(now)
			expired, refuse := p.Expired(now)
			switch {
			case expired && now.Sub(lastDegraded) >= time.Hour:
				lastDegraded = now
				how := "it is still enforced (DEGRADED) as the policy chose"
				if refuse {
					how = "every request is refused, as the policy chose"
				}
				a.log.Error("the policy has expired; central ops must publish a new one", "subsys", "policy", "version", p.Version(), "expired", p.Expires(), "state", how)
			case !expired:
				for _, th := range a.cfg.ExpiryWarnings {
					key := fmt.Sprintf("v%d/%s", p.Version(), th)
					if left <= th && !warned[key] {
						warned[key] = true
						a.log.Warn("the policy expires soon; central ops must publish a new one", "subsys", "policy", "version", p.Version(), "expires", p.Expires(), "in", left.Round(time.Second))
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// expiryNote is the status line about the policy's expiry: empty while it
// is far, a warning within a threshold, the degraded state after it.
func (a *Appliance) expiryNote(now time.Time) string {
	p := a.policy.Load()
	if p == nil {
		return ""
	}
	expired, refuse := p.Expired(now)
	switch {
	case expired && refuse:
		return "every request is refused until central ops publish a new policy"
	case expired:
		return "still enforced, DEGRADED, until central ops publish a new policy"
	}
	left := p.Expires().Sub(now)
	for _, th := range a.cfg.ExpiryWarnings {
		if left <= th {
			return fmt.Sprintf("expires in %s: central ops must publish a new policy before then", PlainDuration(left))
		}
	}
	return ""
}

// PlainDuration says a duration in words a clerk reads: "3 days",
// "20 hours", "45 minutes", "30 seconds".
func PlainDuration(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case d < 2*time.Minute:
		n, unit = int64(d/time.Second), "second"
	case d >= 48*time.Hour:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d >= 2*time.Hour:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
