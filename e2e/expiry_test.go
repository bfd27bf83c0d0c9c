package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

// pushExpiring pushes a bundle that expires in a few seconds, with the
// given on_expiry, and waits until both appliances hold it.
func pushExpiring(t *testing.T, l *lab.Lab, onExpiry string, in time.Duration) (uint64, time.Time) {
	t.Helper()
	ctx := context.Background()
	expires := time.Now().Add(in)
	v, err := l.Push(ctx, func(b *policy.Bundle) { b.Expires, b.OnExpiry = expires, onExpiry })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	return v, expires
}

// By default an expired policy keeps being enforced, loudly degraded: no
// outage because a bundle ran out (X-Road's failure mode), but every answer
// and the status say so.
func TestPolicyExpiryServesDegradedByDefault(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, expires := pushExpiring(t, l, "", 3*time.Second)
	// Within the warning thresholds (7 days by default), status warns.
	st, _ := l.Consumer.Status()
	if st == nil || !strings.Contains(st.Policy.Note, "expires in") {
		t.Fatalf("status before expiry: %+v", st)
	}
	if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 || resp.Header.Get("Bab-Policy-Expired") != "" {
		t.Fatalf("before expiry: %d %q", resp.StatusCode, resp.Header.Get("Bab-Policy-Expired"))
	}
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Bab-Policy-Expired") == "" {
		t.Fatalf("after expiry (serve): %d %q %s", resp.StatusCode, resp.Header.Get("Bab-Policy-Expired"), body)
	}
	// The policy is still enforced, not opened: what it refused stays refused.
	resp, body = do(t, l, "DELETE", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	st, _ = l.Consumer.Status()
	if st == nil || !st.Policy.Expired || !strings.Contains(st.Policy.Note, "DEGRADED") {
		t.Fatalf("status after expiry: %+v", st)
	}
	// Restarted on the expired cache it comes back the same way.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after a restart on an expired policy: %d", resp.StatusCode)
	}
	if !strings.Contains(l.Consumer.Log(), "the policy has expired") {
		t.Fatal("the appliance did not log the expiry")
	}
	// A new bundle from ops ends the degraded state.
	v2, err := l.Push(ctx, nil)
	if err != nil || v2 <= v {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.Header.Get("Bab-Policy-Expired") != "" {
		t.Fatal("still degraded after a new bundle")
	}
}

// A policy can choose to refuse everything once expired.
func TestPolicyExpiryRefuseWhenThePolicySaysSo(t *testing.T) {
	l := newLab(t, lab.Options{})
	_, expires := pushExpiring(t, l, policy.OnExpiryRefuse, 3*time.Second)
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.PolicyExpired, "consumer")
	st, _ := l.Consumer.Status()
	if st == nil || !strings.Contains(st.Policy.Note, "refused") {
		t.Fatalf("status: %+v", st)
	}
}
