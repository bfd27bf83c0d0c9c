package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// dailyQuota gives the lab's rule a quota of 3 calls a day.
func dailyQuota(b *policy.Bundle) {
	b.Rules[0].Limits = []policy.Limit{{Requests: 3, PerSeconds: 86400}}
}

// samePushAgain is dailyQuota in a new version that changes something
// else: the rule, and so its quota, is as it was.
func samePushAgain(b *policy.Bundle) {
	dailyQuota(b)
	b.Services[0].Description = "Civil status records, described anew"
}

// TestQuotaSurvivesExchangeRestartAndPush: a member that spent its daily
// quota at the exchange (calling past its own appliance) does not get a
// new one when the exchange restarts and ops push a bundle with the same
// rule.
func TestQuotaSurvivesExchangeRestartAndPush(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, dailyQuota)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	h := holdIdentity(t, l.Consumer)
	rt := dialClaiming(t, l, h, v)
	call := func(i int) (wire.FrameType, []byte) {
		return rt.roundTrip(t, wire.RequestHead{ID: fmt.Sprint("q", i), Service: lab.CivilStatus.String(), Method: "GET", Path: fmt.Sprint("/citizens/", i), Timeout: 5 * time.Second})
	}
	for i := 1; i <= 3; i++ {
		if ft, payload := call(i); ft != wire.FrameResponseHead {
			t.Fatalf("call %d within the quota: %s %s", i, ft, payload)
		}
	}
	ft, payload := call(4)
	wantWireError(t, ft, payload, "rate_limited", "exchange")

	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err = l.Push(ctx, samePushAgain); err != nil {
		t.Fatal(err)
	}
	awaitVersion(t, l.Provider, v)
	rt = dialClaiming(t, l, h, v)
	before := l.Backend.Requests.Load()
	ft, payload = call(5)
	wantWireError(t, ft, payload, "rate_limited", "exchange")
	if got := l.Backend.Requests.Load() - before; got != 0 {
		t.Fatalf("a call over the quota reached the backend %d times", got)
	}
}

// TestQuotaSurvivesApplianceRestartAndPush: the consumer's appliance
// keeps counting its daily quota across its own restart and a push that
// leaves the rule as it was.
func TestQuotaSurvivesApplianceRestartAndPush(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, dailyQuota)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if resp, body := do(t, l, "GET", fmt.Sprint("/citizens/", i), nil, nil); resp.StatusCode != 200 {
			t.Fatalf("call %d within the quota: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := do(t, l, "GET", "/citizens/4", nil, nil)
	wantProblem(t, resp, body, problem.RateLimited, "consumer")

	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err = l.Push(ctx, samePushAgain); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	before := l.Backend.Requests.Load()
	resp, body = do(t, l, "GET", "/citizens/5", nil, nil)
	wantProblem(t, resp, body, problem.RateLimited, "consumer")
	if got := l.Backend.Requests.Load() - before; got != 0 {
		t.Fatalf("a call over the quota reached the backend %d times", got)
	}
}
