package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	xconfig "github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/pathsim"
	"github.com/babgate/bab/problem"
)

// outcome is how one request through the consumer's gateway ended.
type outcome struct {
	status int
	code   problem.Code // the problem's, when it answered one
	body   []byte
	err    error
	took   time.Duration
	at     time.Time // when it ended
}

// try sends one request through the consumer's gateway, within limit.
func try(l *lab.Lab, method, path string, body io.Reader, limit time.Duration) outcome {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	req, err := l.Request(ctx, method, path, body)
	if err != nil {
		return outcome{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return outcome{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, body: b, err: err, took: time.Since(start), at: time.Now()}
	var p problem.Problem
	if resp.StatusCode != http.StatusOK && json.Unmarshal(b, &p) == nil {
		o.code = p.Code
	}
	return o
}

func (o outcome) String() string {
	return fmt.Sprintf("status %d, problem %q, err %v, after %s", o.status, o.code, o.err, o.took.Round(time.Millisecond))
}

// behind restarts a with the path as its exchange address.
func behind(t *testing.T, l *lab.Lab, a *lab.Appliance, addr string) {
	t.Helper()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(a.Config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "exchanges: [%q]\n", addr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.StartAppliance(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := a.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// within polls ok every 50 ms until it holds, and returns how long that
// took, or fails past limit.
func within(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// tunnelDown reports whether every lane of a's tunnel is down, as its
// status says.
func tunnelDown(a *lab.Appliance) bool {
	st, err := a.Status()
	return err == nil && len(st.Tunnels) == 1 && !st.Tunnels[0].Connected
}

// notReady reports whether a's /readyz answers 503.
func notReady(a *lab.Appliance) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(a.AdminURL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusServiceUnavailable
}

// laneAttempts are the attempts of each lane of a's tunnel.
func laneAttempts(t *testing.T, a *lab.Appliance) []int {
	t.Helper()
	st, err := a.Status()
	if err != nil {
		t.Fatal(err)
	}
	var n []int
	for _, s := range st.Lanes {
		n = append(n, s.Attempts)
	}
	return n
}

// cutPath black-holes the path (on) or lets it through: UDP and TCP alike, so
// that the appliances, on their shipped transport setting (auto), have no
// fallback to take.
func cutPath(p *pathsim.Path, on bool) {
	p.BlockUDP(on)
	p.BlockTCP(on)
}

// TestDeadPathNoticedAndBack black-holes the path (UDP and TCP) between
// both appliances and the exchange, with the shipped heartbeat (10 s) and
// transport setting (auto). The appliances must
// notice within seconds: status and /readyz say the tunnel is down, a
// request in flight and a new one answer exchange_unreachable. Once the
// path is back a request succeeds within seconds, after a short outage
// and after one of 90 s (no back-off of half a minute); during the long
// outage only the first lane probes often, the other backs off. The
// figures are printed; only generous bounds fail, so that a busy machine
// does not make the test flaky.
func TestDeadPathNoticedAndBack(t *testing.T) {
	l := newLab(t, lab.Options{Heartbeat: xconfig.DefaultHeartbeat, Lanes: 2})
	path, err := pathsim.New(l.Exchange.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(path.Close)
	behind(t, l, l.Consumer, path.Addr)
	behind(t, l, l.Provider, path.Addr)
	ok := func() bool { return try(l, "GET", "/citizens/42", nil, 5*time.Second).status == http.StatusOK }
	within(t, 30*time.Second, "a first request through the path", ok)
	const bound = 10 * time.Second

	// A short outage, while a request is in flight.
	inflight := make(chan outcome, 1)
	go func() { inflight <- try(l, "GET", "/slow?d=30s", nil, 60*time.Second) }()
	within(t, 10*time.Second, "the slow request reaching the backend", func() bool { return l.Backend.Slow.Load() > 0 })
	cut := time.Now()
	cutPath(path, true)
	fresh := make(chan outcome, 1)
	go func() { fresh <- try(l, "GET", "/citizens/42", nil, 60*time.Second) }()
	statusDown := within(t, 30*time.Second, "the consumer's status showing the tunnel down", func() bool { return tunnelDown(l.Consumer) })
	within(t, 30*time.Second, "the consumer's /readyz answering 503", func() bool { return notReady(l.Consumer) })
	readyDown := time.Since(cut)
	in, nw := <-inflight, <-fresh
	t.Logf("dead path noticed (shipped heartbeat %s), from the cut: status down after %s, /readyz 503 by %s, the request in flight answered after %s (%v), a new request sent at the cut after %s (%v)",
		xconfig.DefaultHeartbeat, statusDown.Round(time.Millisecond), readyDown.Round(time.Millisecond),
		in.at.Sub(cut).Round(time.Millisecond), in.code, nw.took.Round(time.Millisecond), nw.code)
	if in.code != problem.ExchangeUnreachable || nw.code != problem.ExchangeUnreachable {
		t.Errorf("requests across the dead path: in flight %v, new %v; want both exchange_unreachable", in, nw)
	}
	if statusDown > bound || readyDown > bound || nw.took > bound || in.at.Sub(cut) > bound {
		t.Errorf("the dead path showed after %s (status), %s (/readyz), %s (a new request), %s (the request in flight), want within %s",
			statusDown, readyDown, nw.took, in.at.Sub(cut), bound)
	}
	within(t, 30*time.Second, "the provider's status showing the tunnel down", func() bool { return tunnelDown(l.Provider) })
	if o := try(l, "GET", "/citizens/42", nil, 10*time.Second); o.code != problem.ExchangeUnreachable || o.took > time.Second {
		t.Errorf("a request while the tunnel is known down: %v, want exchange_unreachable at once", o)
	}
	cutPath(path, false)
	back := within(t, 30*time.Second, "a request succeeding once the path is back", ok)
	t.Logf("after a short outage (%s): a request succeeded %s after the path came back", time.Since(cut).Round(time.Second), back.Round(time.Millisecond))
	if back > bound {
		t.Errorf("back %s after the path, want within %s", back, bound)
	}

	// A 90 s outage.
	before := laneAttempts(t, l.Consumer)
	cut = time.Now()
	cutPath(path, true)
	within(t, 30*time.Second, "both appliances showing the tunnel down", func() bool { return tunnelDown(l.Consumer) && tunnelDown(l.Provider) })
	var slowest time.Duration
	for time.Since(cut) < 90*time.Second {
		o := try(l, "GET", "/citizens/42", nil, 10*time.Second)
		if o.code != problem.ExchangeUnreachable {
			t.Fatalf("a request during the outage: %v, want exchange_unreachable", o)
		}
		slowest = max(slowest, o.took)
		time.Sleep(time.Second)
	}
	after := laneAttempts(t, l.Consumer)
	cutPath(path, false)
	back = within(t, 30*time.Second, "a request succeeding once the path is back", ok)
	probes := []int{after[0] - before[0], after[1] - before[1]}
	t.Logf("after a 90 s outage (%s): a request succeeded %s after the path came back; attempts during the outage: first lane %d, second lane %d; slowest exchange_unreachable answer %s",
		time.Since(cut).Round(time.Second)-back.Round(time.Second), back.Round(time.Millisecond), probes[0], probes[1], slowest.Round(time.Millisecond))
	if back > bound {
		t.Errorf("back %s after a 90 s outage, want within %s", back, bound)
	}
	if slowest > time.Second {
		t.Errorf("a request while the tunnel was known down took %s to answer exchange_unreachable", slowest)
	}
	// The first lane probes about every 3 s (QUIC, then TCP, 1.5 s each);
	// the second backs off to 30 s.
	if probes[0] < 15 || probes[1] > probes[0]/2 {
		t.Errorf("attempts during 90 s: first lane %d, second %d; want the first probing often and the second backing off", probes[0], probes[1])
	}
}
