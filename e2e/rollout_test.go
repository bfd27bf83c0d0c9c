package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

// TestStagedRollout: a bundle goes to the commune's appliance first, ops
// watch it, promote it to everyone; the next one is staged and aborted with
// a rollback, which is the old content under a higher version.
func TestStagedRollout(t *testing.T) {
	l := newLab(t, lab.Options{})
	x := filepath.Join(binDir, "bab-exchange")
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		out, err := exec.Command(x, args...).CombinedOutput()
		return string(out), err
	}
	sign := func(name string, b *policy.Bundle) string {
		raw, err := policySign(b, l.OpsKey)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	now := time.Now().UTC()
	// v2 takes POST away from the commune.
	v2 := l.DefaultPolicy(2, now)
	v2.Rules[0].Methods = []string{"GET"}
	out, err := run("policy", "push", "--config", l.Exchange.Config, "--stage", "appliance:"+lab.CommuneHQ.String(), sign("v2.json", v2))
	if err != nil || !strings.Contains(out, "staged to appliance:MA/MUN/RABAT:hq; sent to 1") {
		t.Fatalf("staged push: %v\n%s", err, out)
	}
	awaitVersion(t, l.Consumer, 2)
	time.Sleep(300 * time.Millisecond)
	if st, _ := l.Provider.Status(); st == nil || st.Policy.Version != 1 {
		t.Fatalf("the provider outside the stage got the staged bundle: %+v", st)
	}
	out, err = run("policy", "rollout", "status", "--config", l.Exchange.Config)
	if err != nil || !strings.Contains(out, "Staged v2 (current v1)") || !strings.Contains(out, "applied by 1 of 1") {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	// The staged rule is in force for the staged appliance, at its gateway
	// and at the exchange.
	resp, body := do(t, l, "POST", "/echo", strings.NewReader("x"), nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	if resp, _ := do(t, l, "GET", "/citizens/4", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("GET under the staged bundle: %d", resp.StatusCode)
	}
	// A plain push during a rollout is refused.
	if out, err := run("policy", "push", "--config", l.Exchange.Config, sign("v9.json", l.DefaultPolicy(9, now))); err == nil || !strings.Contains(out, "rollout is in progress") {
		t.Fatalf("plain push during a rollout: %v\n%s", err, out)
	}
	if out, err := run("policy", "rollout", "promote", "--config", l.Exchange.Config); err != nil || !strings.Contains(out, "Promoted: policy v2") {
		t.Fatalf("promote: %v\n%s", err, out)
	}
	awaitVersion(t, l.Provider, 2)

	// v3 gives the commune DELETE; it is staged and then aborted with v4,
	// the content of v2 signed again above v3.
	v3 := l.DefaultPolicy(3, now)
	v3.Rules[0].Methods = []string{"GET", "DELETE"}
	if out, err := run("policy", "push", "--config", l.Exchange.Config, "--stage", "member:"+lab.Commune.String(), sign("v3.json", v3)); err != nil {
		t.Fatalf("second staged push: %v\n%s", err, out)
	}
	awaitVersion(t, l.Consumer, 3)
	// The rollout survives an exchange restart.
	ctx := context.Background()
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run("policy", "rollout", "status", "--config", l.Exchange.Config); err != nil || !strings.Contains(out, "Staged v3 (current v2)") {
		t.Fatalf("rollout status after an exchange restart: %v\n%s", err, out)
	}
	// Aborting with a version not above the staged one is refused.
	if out, err := run("policy", "rollout", "abort", "--config", l.Exchange.Config, sign("v2again.json", v2)); err == nil {
		t.Fatalf("abort with v2: %s", out)
	}
	v4 := l.DefaultPolicy(4, now)
	v4.Rules[0].Methods = []string{"GET"}
	if out, err := run("policy", "rollout", "abort", "--config", l.Exchange.Config, sign("v4.json", v4)); err != nil || !strings.Contains(out, "Aborted: policy v4") {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	if err := l.AwaitPolicy(ctx, 4); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, l, "DELETE", "/citizens/4", nil, nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	if out, err := run("policy", "rollout", "status", "--config", l.Exchange.Config); err == nil || !strings.Contains(out, "no staged rollout") {
		t.Fatalf("status after abort: %v\n%s", err, out)
	}
}
