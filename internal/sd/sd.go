// Package sd is the daemons' side of systemd: readiness and status
// notifications, the watchdog, and socket activation. Outside systemd
// (NOTIFY_SOCKET, WATCHDOG_USEC and LISTEN_FDS unset) every function here
// does nothing, so the daemons run the same way from a terminal.
package sd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
)

// Notify sends state lines (READY=1, STATUS=…) to the service manager. It
// reports whether a manager was listening; without one it does nothing.
func Notify(state string) (bool, error) {
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		return false, fmt.Errorf("notify the service manager: %w", err)
	}
	return sent, nil
}

// Ready tells the service manager that start-up is complete, with a first
// status line.
func Ready(status string) error {
	_, err := Notify("READY=1\nSTATUS=" + oneLine(status))
	return err
}

// Stopping tells the service manager that the daemon is shutting down.
func Stopping(status string) {
	_, _ = Notify("STOPPING=1\nSTATUS=" + oneLine(status))
}

// oneLine keeps a status to one line: a newline would start a new
// assignment in the notification.
func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// Daemon is what the service manager needs of a daemon: a one-line status
// and a liveness check (see Supervise).
type Daemon interface {
	Summary() string
	Alive(context.Context) error
}

// Run runs a daemon under the service manager: run starts it and calls
// ready once it serves; ready sends READY=1 with the daemon's status and
// starts Supervise. When run returns, Run sends STOPPING=1 and waits for
// the supervision to end.
func Run(ctx context.Context, log *slog.Logger, d Daemon, run func(ctx context.Context, ready func()) error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := func() {
		if err := Ready(d.Summary()); err != nil {
			log.Warn("could not tell the service manager the daemon is ready", "err", err)
		}
		wg.Go(func() { Supervise(ctx, log, d.Summary, d.Alive) })
	}
	err := run(ctx, ready)
	Stopping("stopped")
	return err
}

// statusEvery is how often Supervise asks for the status line.
var statusEvery = 5 * time.Second

// Supervise runs until ctx ends. Every few seconds it asks status for a
// one-line summary and sends it as STATUS= when it changed. When the
// service manager runs a watchdog for this process (WatchdogSec=), it
// checks alive at half the watchdog interval and pings (WATCHDOG=1) only
// when alive returns nil within the interval: a daemon that is stuck
// stops pinging and is restarted, while one that is merely cut off from
// the network keeps pinging (alive must not depend on the network).
func Supervise(ctx context.Context, log *slog.Logger, status func() string, alive func(context.Context) error) {
	wd, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("the service manager's watchdog setting is unusable; running without it", "err", err)
		wd = 0
	}
	tick := statusEvery
	if wd > 0 {
		tick = min(tick, wd/2)
		log.Info("watchdog on", "interval", wd)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var last string
	var lastStatus time.Time
	failing := false
	for {
		now := time.Now()
		if status != nil && now.Sub(lastStatus) >= statusEvery-tick/2 {
			if s := status(); s != last {
				if _, err := Notify("STATUS=" + oneLine(s)); err == nil {
					last = s
				}
			}
			lastStatus = now
		}
		if wd > 0 && alive != nil {
			actx, cancel := context.WithTimeout(ctx, wd/2)
			err := alive(actx)
			cancel()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("liveness check failed; not pinging the watchdog, so the service manager restarts the daemon if this lasts", "err", err)
				failing = true
			default:
				if failing {
					log.Info("liveness check passes again")
					failing = false
				}
				_, _ = Notify("WATCHDOG=1")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Listeners returns the sockets the service manager passed, by the name
// given to each (FileDescriptorName= in the socket unit), and clears the
// environment that carried them so that child processes do not inherit
// it. None passed gives an empty map.
func Listeners() (map[string][]net.Listener, error) {
	ls, err := activation.ListenersWithNames()
	if err != nil {
		return nil, fmt.Errorf("sockets from the service manager: %w", err)
	}
	return ls, nil
}

// Listener takes the one stream socket passed under name, if any (other
// kinds of socket are not listeners and never show up here). More than one
// under the same name is an error: the daemon would not know which to
// serve.
func Listener(all map[string][]net.Listener, name string) (net.Listener, error) {
	ls := all[name]
	if len(ls) > 1 {
		return nil, fmt.Errorf("%d sockets named %q from the service manager; the socket unit must have one ListenStream= with FileDescriptorName=%s", len(ls), name, name)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return ls[0], nil
}
