package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestTCPFallback runs a federation whose appliances reach the exchange
// through a path that drops UDP from the start, as an office network that
// blocks it: they enroll and bring their tunnels up over TLS on TCP,
// requests arrive whole, and status and metrics say TCP and why. When UDP
// is let through, the tunnels move back to QUIC while requests keep
// flowing, none failing.
func TestTCPFallback(t *testing.T) {
	begin := time.Now()
	l := newLab(t, lab.Options{ViaPath: true, BlockUDP: true})
	t.Logf("federation up over TCP with UDP blocked in %s (two enrollments and two tunnels, each waiting for QUIC first)", time.Since(begin).Round(time.Millisecond))

	// From the start of an appliance to its tunnel up over TCP.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("appliance start to its tunnel up over TCP, UDP blocked: %s", time.Since(start).Round(time.Millisecond))

	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		wantTransport(t, a, "tcp", "no answer")
	}
	checkTransportMetrics(t, l, "tcp")

	var cases []bodyCase
	for _, size := range []int{0, 1, 64 << 10, 1 << 20, 4 << 20} {
		for _, chunked := range []bool{false, true} {
			for _, expect := range []bool{false, true} {
				cases = append(cases, bodyCase{size, chunked, expect, 0})
			}
		}
	}
	if failures := parallel(len(cases), 4, func(i int) error {
		if err := checkBody(l, cases[i], i, false); err != nil {
			return fmt.Errorf("%s: %w", cases[i], err)
		}
		return nil
	}); len(failures) > 0 {
		t.Fatalf("%d of %d bodies did not arrive whole over TCP:\n%s", len(failures), len(cases), strings.Join(failures, "\n"))
	}

	// Let UDP through while a caller keeps sending: the tunnels move back
	// to QUIC and not one request fails.
	var (
		stop     atomic.Bool
		sent     atomic.Int64
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
	)
	client := &http.Client{}
	defer client.CloseIdleConnections()
	for w := range 2 {
		wg.Go(func() {
			for i := w; !stop.Load(); i += 2 {
				if err := echoOnce(l, client, i, []int{100, 64 << 10, 300_000}[i%3], i%4 < 2); err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
				sent.Add(1)
			}
		})
	}
	l.Path.BlockUDP(false)
	moved := time.Now()
	deadline := moved.Add(90 * time.Second)
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		for !onTransport(a, "quic") {
			if time.Now().After(deadline) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("%s still not back on QUIC %s after UDP was let through", a.ID, time.Since(moved).Round(time.Second))
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s back on QUIC %s after UDP was let through", a.ID, time.Since(moved).Round(time.Millisecond))
	}
	// Until the exchange holds no tunnel over TCP any more: the old ones
	// are closed once their requests are done.
	for {
		f, err := lab.Scrape(context.Background(), l.Exchange.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := f.Value("bab_exchange_tunnels_by_transport", "transport", "tcp"); ok && v == 0 {
			break
		}
		if time.Now().After(deadline.Add(time.Minute)) {
			t.Fatalf("the exchange still holds tunnels over TCP %s after UDP was let through", time.Since(moved).Round(time.Second))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("old TCP tunnels closed %s after UDP was let through", time.Since(moved).Round(time.Millisecond))
	time.Sleep(time.Second) // a few more requests on QUIC alone
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the move to QUIC:\n%s", len(failures), sent.Load(), strings.Join(failures[:min(20, len(failures))], "\n"))
	}
	t.Logf("%d requests during the move, none failed", sent.Load())
	checkTransportMetrics(t, l, "quic")
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		wantTransport(t, a, "quic", "")
	}
}

func onTransport(a *lab.Appliance, kind string) bool {
	st, err := a.Status()
	return err == nil && len(st.Tunnels) == 1 && st.Tunnels[0].Connected && st.Tunnels[0].Transport == kind
}

// wantTransport checks that status says a's tunnel is up over kind, and
// why, in words that contain reason.
func wantTransport(t *testing.T, a *lab.Appliance, kind, reason string) {
	t.Helper()
	st, err := a.Status()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tunnels) != 1 {
		t.Fatalf("%s: %d tunnels", a.ID, len(st.Tunnels))
	}
	tn := st.Tunnels[0]
	if !tn.Connected || tn.Transport != kind || !strings.Contains(tn.TransportReason, reason) || (reason == "") != (tn.TransportReason == "") {
		t.Fatalf("%s: tunnel up %v over %q because %q; want up over %s because of %q", a.ID, tn.Connected, tn.Transport, tn.TransportReason, kind, reason)
	}
}

// checkTransportMetrics checks that both appliances and the exchange
// count their tunnels on kind (waiting a little: the exchange lets go of
// a tunnel a moment after its appliance did).
func checkTransportMetrics(t *testing.T, l *lab.Lab, kind string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = transportMetrics(l, kind); err == nil {
			return
		}
	}
	t.Error(err)
}

func transportMetrics(l *lab.Lab, kind string) error {
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		f, err := lab.Scrape(context.Background(), a.AdminURL)
		if err != nil {
			return err
		}
		if v, _ := f.Value("bab_tunnel_transport", "exchange", l.ExchangeAddr(), "transport", kind); v != 1 {
			return fmt.Errorf("%s: bab_tunnel_transport{%s} = %v, want 1", a.ID, kind, v)
		}
	}
	f, err := lab.Scrape(context.Background(), l.Exchange.AdminURL)
	if err != nil {
		return err
	}
	if v, _ := f.Value("bab_exchange_tunnels_by_transport", "transport", kind); v != 2 {
		return fmt.Errorf("exchange: bab_exchange_tunnels_by_transport{%s} = %v, want 2", kind, v)
	}
	return nil
}

// TestForcedTCP runs a federation whose appliances are set to TCP: no
// QUIC attempt, status says the configuration chose it.
func TestForcedTCP(t *testing.T) {
	l := newLab(t, lab.Options{Transport: "tcp"})
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		wantTransport(t, a, "tcp", "the configuration sets tunnels.transport: tcp")
	}
	checkTransportMetrics(t, l, "tcp")
	for i, size := range []int{0, 300_000, 2 << 20} {
		if err := checkBody(l, bodyCase{size: size, chunked: i%2 == 0}, i, false); err != nil {
			t.Fatal(err)
		}
	}
}
