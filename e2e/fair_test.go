package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// TestOneOfficeCannotStarveAnother: a consumer that keeps as many slow
// requests in flight to a provider as the exchange allows one pair gets
// overloaded (with Retry-After) for the next one at once, while another
// office's requests to the same provider still pass.
func TestOneOfficeCannotStarveAnother(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "limits:\n  requests_per_appliance: 6\n  requests_per_pair: 4\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	annex, err := l.EnrollNew(ctx, ident.MustAppliance("MA/MUN/RABAT:annex"), l.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { annex.Stop() })
	if _, err := l.Push(ctx, func(b *policy.Bundle) {
		b.Appliances = append(b.Appliances, policy.Appliance{ID: annex.ID, Key: annex.Key})
	}); err != nil {
		t.Fatal(err)
	}
	if err := annex.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	// The commune's main office fills its share of the registry.
	slow, stopSlow := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			req, _ := l.Request(slow, "GET", "/slow?d=60s", nil)
			req.Header.Set("Bab-Timeout", "90s")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	defer func() { stopSlow(); wg.Wait() }()
	waitFor(t, 30*time.Second, func() error {
		if l.Backend.Slow.Load() < 4 {
			return errors.New("the slow requests have not all reached the backend")
		}
		return nil
	})
	start := time.Now()
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.Overloaded, "exchange")
	if resp.Header.Get("Retry-After") == "" || time.Since(start) > 5*time.Second {
		t.Errorf("overloaded after %s, Retry-After %q: want at once, with Retry-After", time.Since(start), resp.Header.Get("Retry-After"))
	}
	// The annex is another office's share: it still passes.
	resp, body = annexGet(t, annex, "/citizens/1")
	if resp.StatusCode != 200 {
		t.Fatalf("another appliance was starved: %d %s", resp.StatusCode, body)
	}
	f, err := lab.Scrape(ctx, l.Exchange.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Value("bab_exchange_limited_total", "limit", "requests_per_pair"); v < 1 {
		t.Errorf("bab_exchange_limited_total{limit=requests_per_pair} = %v", v)
	}
}

// TestConnectionBounds plays an appliance that opens more tunnels than the
// exchange allows one appliance, and a stranger holding enrollment
// connections open without a word: the extra tunnel and the extra
// enrollment are closed as busy at once, and an idle enrollment connection
// is closed within seconds, not minutes.
func TestConnectionBounds(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "limits:\n  tunnels_per_appliance: 2\n  enrollments: 2\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	h := holdIdentity(t, l.Consumer)
	for i := range 3 {
		conn, err := quic.DialAddr(ctx, l.Exchange.Addr, h.tls, tunnel.DefaultQUICConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		err = hello(ctx, conn, h.id.Appliance)
		var ae *quic.ApplicationError
		switch {
		case i < 2 && err != nil:
			t.Fatalf("tunnel %d: %v", i+1, err)
		case i == 2 && !(errors.As(err, &ae) && ae.ErrorCode == wire.CloseBusy):
			t.Fatalf("tunnel 3 of an appliance allowed 2: %v, want closed as busy", err)
		}
	}

	enrollTLS := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{wire.ALPNEnroll}} // a stranger, before any trust
	var idle []*quic.Conn
	for i := range 3 {
		conn, err := quic.DialAddr(ctx, l.Exchange.Addr, enrollTLS, tunnel.DefaultQUICConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		idle = append(idle, conn)
		if i < 2 {
			continue
		}
		select {
		case <-conn.Context().Done():
			var ae *quic.ApplicationError
			if err := context.Cause(conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != wire.CloseBusy {
				t.Fatalf("enrollment 3 of 2 allowed closed with %v, want busy", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a third enrollment connection was served while two were open")
		}
	}
	start := time.Now()
	select {
	case <-idle[0].Context().Done():
		t.Logf("an idle enrollment connection was closed after %s", time.Since(start).Round(100*time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("an enrollment connection that sends nothing is kept for more than 30 s")
	}
}

// hello opens the control stream and says hello as id; it returns the
// error that ended the connection if no welcome came.
func hello(ctx context.Context, conn *quic.Conn, id string) error {
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if err := wire.WriteJSON(ctrl, wire.FrameHello, wire.Hello{Appliance: id, Software: "test"}); err != nil {
		return err
	}
	ft, _, err := wire.ReadFrame(wire.NewReader(ctrl), 0)
	if err != nil {
		return err
	}
	if ft != wire.FrameWelcome {
		return errors.New("no welcome: " + ft.String())
	}
	return nil
}
