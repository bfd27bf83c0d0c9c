package exchange

import (
	"context"
	"errors"
	"fmt"
)

// OnReady sets f to run once the exchange listens (QUIC and the admin
// socket): the moment to tell the service manager it is ready. Call it
// before Run.
func (x *Exchange) OnReady(f func()) { x.onReady = f }

// Alive is the watchdog's liveness check: the store answers a read, and
// the session table can be read (its lock is not stuck). Nothing here
// depends on appliances being connected.
func (x *Exchange) Alive(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, _, err := x.store.CA()
		if err == nil {
			_ = len(x.allSessions())
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("liveness: store read: %w", err)
		}
		return nil
	case <-ctx.Done():
		return errors.New("liveness: the store or the session table did not answer in time")
	}
}

// Summary is a one-line account of the exchange, for the service
// manager's status line (systemctl status bab-exchange).
func (x *Exchange) Summary() string {
	version := uint64(0)
	if p := x.policy.Load(); p != nil {
		version = p.Version()
	}
	n := len(x.allSessions())
	s := fmt.Sprintf("%d appliance tunnels; ", n)
	if version == 0 {
		s += "no policy pushed yet (bab-exchange policy push)"
	} else {
		s += fmt.Sprintf("policy v%d", version)
	}
	if r := x.staged.Load(); r != nil {
		s += fmt.Sprintf(", v%d staged", r.policy.Version())
	}
	return s
}
