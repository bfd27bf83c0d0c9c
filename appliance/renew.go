package appliance

import (
	"context"
	"time"

	"github.com/babgate/bab/agent/tunnel"
)

// renewLoop renews the tunnel certificate over a connected tunnel once two
// thirds of its lifetime have passed, so certificates can stay short-lived
// without anyone acting.
func (a *Appliance) renewLoop(ctx context.Context) {
	for {
		leaf := a.cert.Load().Leaf
		life := leaf.NotAfter.Sub(leaf.NotBefore)
		// Look often enough for the lifetime, and at least twice a minute.
		wait := min(max(life/20, time.Second), 30*time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		leaf = a.cert.Load().Leaf
		if time.Until(leaf.NotAfter) > life/3 {
			continue
		}
		if err := a.renew(ctx); err != nil {
			a.log.Warn("certificate renewal failed; will retry", "subsys", "renew", "not_after", leaf.NotAfter, "err", err)
		}
	}
}

func (a *Appliance) renew(ctx context.Context) error {
	csr, err := a.key.CSR(a.id.String())
	if err != nil {
		return err
	}
	var lastErr error
	for _, t := range a.tunnels {
		if !t.Connected() {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		chain, err := t.Renew(rctx, csr)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		if err := a.setChain(chain); err != nil {
			return err
		}
		if err := a.store.UpdateChain(chain); err != nil {
			return err
		}
		a.log.Info("certificate renewed", "subsys", "renew", "not_after", a.cert.Load().Leaf.NotAfter)
		return nil
	}
	if lastErr == nil {
		lastErr = tunnel.ErrNotConnected
	}
	return lastErr
}
