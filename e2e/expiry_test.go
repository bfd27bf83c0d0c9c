package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

func TestPolicyExpiresWhileRunning(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	expires := time.Now().Add(3 * time.Second)
	v, err := l.Push(ctx, func(b *policy.Bundle) { b.Expires = expires })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("before expiry: %d", resp.StatusCode)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.PolicyExpired, "consumer")

	// Restarted on an expired cache, the appliance still starts, says why
	// it refuses, and reports it in its status.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.PolicyExpired, "consumer")
	st, err := l.Consumer.Status()
	if err != nil || !st.Policy.Expired || st.Policy.Version != v {
		t.Fatalf("status: %+v %v", st.Policy, err)
	}

	// A new bundle from ops heals it without a restart.
	v2, err := l.Push(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after a new bundle: %d %s", resp.StatusCode, body)
	}
}
