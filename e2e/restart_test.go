package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

func TestExchangeKilledAndRestarted(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	pids := []int{l.Consumer.PID(), l.Provider.PID()}

	l.Exchange.Kill()
	// While the exchange is gone every request still ends, as a typed
	// error, within its deadline.
	for i := range 3 {
		start := time.Now()
		resp, body := do(t, l, "GET", "/citizens/9", nil, map[string]string{"Bab-Timeout": "2s"})
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("request %d succeeded with the exchange down", i)
		}
		p := wantProblem(t, resp, body, problemCodeOf(body), "")
		if p.Code != problem.Timeout && p.Code != problem.ExchangeUnreachable {
			t.Fatalf("request %d: %s, want timeout or exchange_unreachable", i, p.Code)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("request %d took %s with a 2s deadline", i, d)
		}
	}
	// Once the appliance has noticed (heartbeats), it says so at once.
	waitFor(t, 20*time.Second, func() error {
		st, err := l.Consumer.Status()
		if err != nil {
			return err
		}
		if st.Tunnels[0].Connected {
			return errString("consumer still believes its tunnel is up")
		}
		return nil
	})
	start := time.Now()
	resp, body := do(t, l, "GET", "/citizens/9", nil, nil)
	wantProblem(t, resp, body, problem.ExchangeUnreachable, "consumer")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("exchange_unreachable took %s", d)
	}

	// The exchange comes back: both appliances reconnect by themselves.
	restarted := time.Now()
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, func() error {
		resp, _ := do(t, l, "GET", "/citizens/9", nil, nil)
		if resp.StatusCode != http.StatusOK {
			return errString("request after restart: " + resp.Status)
		}
		return nil
	})
	t.Logf("requests flow again %s after the exchange restarted", time.Since(restarted).Round(time.Millisecond))
	if l.Consumer.PID() != pids[0] || l.Provider.PID() != pids[1] {
		t.Fatal("an appliance was restarted")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func problemCodeOf(body []byte) problem.Code {
	var p struct {
		Code problem.Code `json:"code"`
	}
	_ = jsonUnmarshal(body, &p)
	return p.Code
}
