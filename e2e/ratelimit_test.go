package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

func TestRateLimitsAtTheApplianceAndTheExchange(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, func(b *policy.Bundle) {
		b.Rules[0].Limits = []policy.Limit{{Requests: 3, PerSeconds: 60}} // 3 a minute
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("call %d within the limit: %d", i+1, resp.StatusCode)
		}
	}
	before := l.Backend.Requests.Load()
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.RateLimited, "consumer")
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 15 || ra > 20 {
		t.Fatalf("Retry-After = %q, want about 20 s (a third of a minute)", resp.Header.Get("Retry-After"))
	}
	// The exchange counts the member's calls too: a call made by hand
	// with the commune's identity, past its own appliance, is refused there.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rt := dialAs(t, l, l.Consumer)
	ft, payload := rt.roundTrip(t, wire.RequestHead{ID: "r1", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/2", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "rate_limited", "exchange")
	if we, _ := wire.DecodeError(payload); we == nil || we.RetryAfter.Duration() <= 0 {
		t.Fatalf("no retry time from the exchange: %+v", we)
	}
	if got := l.Backend.Requests.Load(); got != before {
		t.Fatalf("limited calls reached the backend %d times", got-before)
	}
}
