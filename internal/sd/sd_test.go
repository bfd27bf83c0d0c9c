package sd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// notifySocket listens where NOTIFY_SOCKET points, as the service manager
// does, and returns the datagrams it receives.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan string, within time.Duration) string {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("notify socket closed")
		}
		return m
	case <-time.After(within):
		t.Fatalf("no notification within %s", within)
		return ""
	}
}

func TestReadyAndStopping(t *testing.T) {
	ch := notifySocket(t)
	if err := Ready("policy v3;\n2 of 2 tunnels up"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, ch, time.Second); m != "READY=1\nSTATUS=policy v3; 2 of 2 tunnels up" {
		t.Fatalf("ready sent %q", m)
	}
	Stopping("stopped")
	if m := next(t, ch, time.Second); m != "STOPPING=1\nSTATUS=stopped" {
		t.Fatalf("stopping sent %q", m)
	}
}

func TestNotifyWithoutManager(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	sent, err := Notify("READY=1")
	if sent || err != nil {
		t.Fatalf("without a manager: sent %v, err %v", sent, err)
	}
}

// TestWatchdogPingsOnlyWhileAlive: pings at half the interval while the
// liveness check passes, none while it fails, and again once it passes.
func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	ch := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "200000") // 200 ms: a check every 100 ms
	defer func(d time.Duration) { statusEvery = d }(statusEvery)
	statusEvery = 300 * time.Millisecond
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var failing atomic.Bool
	var status atomic.Value
	status.Store("starting")
	alive := func(ctx context.Context) error {
		if failing.Load() {
			return errors.New("store stuck")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Supervise(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func() string { return status.Load().(string) }, alive)
	}()
	defer func() { cancel(); <-done }()

	count := func(d time.Duration) (pings int, statuses []string) {
		end := time.After(d)
		for {
			select {
			case m := <-ch:
				if m == "WATCHDOG=1" {
					pings++
				} else if s, ok := strings.CutPrefix(m, "STATUS="); ok {
					statuses = append(statuses, s)
				} else {
					t.Errorf("unexpected notification %q", m)
				}
			case <-end:
				return pings, statuses
			}
		}
	}
	pings, statuses := count(time.Second)
	if pings < 4 {
		t.Errorf("alive: %d pings in 1 s with a 200 ms watchdog, want about 10", pings)
	}
	if len(statuses) != 1 || statuses[0] != "starting" {
		t.Errorf("status lines %q, want the first status once", statuses)
	}
	failing.Store(true)
	count(150 * time.Millisecond) // a ping already on its way may land
	if pings, _ := count(600 * time.Millisecond); pings != 0 {
		t.Errorf("%d pings while the liveness check fails; the service manager must see none", pings)
	}
	failing.Store(false)
	status.Store("policy v4; 1 of 1 tunnels up")
	pings, statuses = count(time.Second)
	if pings < 4 {
		t.Errorf("%d pings after recovery", pings)
	}
	if len(statuses) != 1 || statuses[0] != "policy v4; 1 of 1 tunnels up" {
		t.Errorf("status lines after a change: %q, want the new status once", statuses)
	}
}

func TestWatchdogForAnotherProcess(t *testing.T) {
	ch := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	Supervise(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func(context.Context) error { return nil })
	select {
	case m := <-ch:
		t.Fatalf("pinged a watchdog meant for another process: %q", m)
	default:
	}
}

func TestListenerByName(t *testing.T) {
	a, _ := net.Listen("tcp", "127.0.0.1:0")
	b, _ := net.Listen("tcp", "127.0.0.1:0")
	defer a.Close()
	defer b.Close()
	all := map[string][]net.Listener{"gateway": {a}, "admin": {a, b}}
	if l, err := Listener(all, "gateway"); err != nil || l != a {
		t.Errorf("gateway: %v, %v", l, err)
	}
	if l, err := Listener(all, "metrics"); err != nil || l != nil {
		t.Errorf("absent name: %v, %v", l, err)
	}
	if _, err := Listener(all, "admin"); err == nil || !strings.Contains(err.Error(), "FileDescriptorName=admin") {
		t.Errorf("two sockets under one name: %v", err)
	}
}

type fakeDaemon struct{}

func (fakeDaemon) Summary() string             { return "policy v1; 1 of 1 tunnels up" }
func (fakeDaemon) Alive(context.Context) error { return nil }

// TestRun: READY=1 with the daemon's status when it says it serves, then
// STOPPING=1 once it returns, and run's error is Run's.
func TestRun(t *testing.T) {
	ch := notifySocket(t)
	want := errors.New("listener closed")
	err := Run(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), fakeDaemon{}, func(ctx context.Context, ready func()) error {
		ready()
		if m := next(t, ch, time.Second); m != "READY=1\nSTATUS=policy v1; 1 of 1 tunnels up" {
			t.Errorf("after ready: %q", m)
		}
		return want
	})
	if err != want {
		t.Errorf("Run returned %v, want run's error", err)
	}
	for {
		m := next(t, ch, time.Second)
		if strings.HasPrefix(m, "STOPPING=1") {
			break
		}
		if !strings.HasPrefix(m, "STATUS=") {
			t.Fatalf("unexpected notification %q", m)
		}
	}
}
