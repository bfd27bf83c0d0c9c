package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestDamagedCachedPolicyStartsWithoutPolicy: an appliance whose cached
// policy no longer verifies (a flipped byte in the state file) must not
// exit, which under systemd restarts it in a loop. It starts without a
// policy, refuses requests with no_policy, says why in its status and in
// bab doctor, and the exchange's push repairs it once the tunnel is up.
func TestDamagedCachedPolicyStartsWithoutPolicy(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a := l.Consumer
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.Exchange.Stop(); err != nil { // so that nothing repairs it at once
		t.Fatal(err)
	}
	corruptCachedPolicy(t, a.StateDir)

	out, code := babCmd(t, "doctor", "--config", a.Config)
	if code == 0 || !strings.Contains(out, "the cached policy is refused") {
		t.Errorf("bab doctor on the stopped appliance: exit %d, want a policy failure:\n%s", code, out)
	}
	if err := l.StartAppliance(ctx, a); err != nil {
		t.Fatalf("the appliance did not start with a damaged cached policy: %v", err)
	}
	st, err := a.Status()
	if err != nil || st.Policy.Version != 0 || !strings.Contains(st.Policy.Problem, "cached policy was refused") {
		t.Fatalf("status with a damaged cache: %+v %v", st.Policy, err)
	}
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	p := wantProblem(t, resp, body, problem.NoPolicy, "consumer")
	if !strings.Contains(p.Detail, "damaged") {
		t.Errorf("no_policy detail does not say why: %q", p.Detail)
	}
	out, code = babCmd(t, "doctor", "--config", a.Config)
	if code == 0 || !strings.Contains(out, "cached policy was refused") {
		t.Errorf("bab doctor on the running appliance: exit %d, want a policy failure:\n%s", code, out)
	}
	out, _ = babCmd(t, "status", "--config", a.Config)
	if !strings.Contains(out, "NO VALID POLICY") {
		t.Errorf("bab status does not say there is no valid policy:\n%s", out)
	}

	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, l.PolicyVersion()); err != nil {
		t.Fatalf("the exchange's push did not repair the policy: %v", err)
	}
	if st, _ := a.Status(); st == nil || st.Policy.Problem != "" {
		t.Errorf("the problem is still reported after the repair: %+v", st)
	}
	waitFor(t, 30*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
			return errString("requests still fail after the repair")
		}
		return nil
	})
}

// corruptCachedPolicy flips one byte in the middle of the signed bundle
// kept in an appliance's (stopped) state file.
func corruptCachedPolicy(t *testing.T, stateDir string) {
	t.Helper()
	st, err := store.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := st.Policy()
	if err != nil || sp == nil {
		t.Fatalf("cached policy: %v %v", sp, err)
	}
	routes, err := st.Routes()
	if err != nil {
		t.Fatal(err)
	}
	sp.Signed[len(sp.Signed)/2] ^= 0x20
	if err := st.RepairPolicy(sp.Signed, sp.Version, routes, sp.Trust, sp.AppliedAt); err != nil {
		t.Fatal(err)
	}
}
