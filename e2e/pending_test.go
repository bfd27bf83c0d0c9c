package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// TestUnlistedApplianceWaitsForApproval: an appliance that is enrolled but
// not listed in the signed policy may not call, neither through its own
// gateway nor by talking to the exchange directly, and may not be called
// (TestDenyAtProvider plays that side); its status says it waits for
// central approval, and fleet ls shows it pending. Ops approve it with one
// command that writes it into the policy source, then sign and push; after
// that it calls like any other.
func TestUnlistedApplianceWaitsForApproval(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	annexID := ident.MustAppliance("MA/MUN/RABAT:annex")
	annex, err := l.EnrollNew(ctx, annexID, l.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { annex.Stop() })
	waitFor(t, 30*time.Second, func() error {
		st, err := annex.Status()
		if err != nil || st.Policy.Version == 0 || !st.Policy.Pending {
			return errString("the annex has no policy yet, or is not pending")
		}
		return nil
	})
	out, _ := babCmd(t, "status", "--config", annex.Config)
	if !strings.Contains(out, "WAITS FOR CENTRAL APPROVAL") {
		t.Errorf("bab status does not say the appliance waits for approval:\n%s", out)
	}
	before := l.Backend.Requests.Load()
	resp, body := annexGet(t, annex, "/citizens/1")
	wantProblem(t, resp, body, problem.AppliancePending, "consumer")

	x := filepath.Join(binDir, "bab-exchange")
	fleet, err := exec.Command(x, "fleet", "ls", "--config", l.Exchange.Config).CombinedOutput()
	if err != nil || !strings.Contains(string(fleet), "PENDING approval") || !strings.Contains(string(fleet), "fleet approve") {
		t.Errorf("fleet ls does not show the pending appliance: %v\n%s", err, fleet)
	}

	// Skipping its own gateway's check does not help: the exchange refuses.
	if err := annex.Stop(); err != nil {
		t.Fatal(err)
	}
	rogue := dialAs(t, l, annex)
	ft, payload := rogue.roundTrip(t, wire.RequestHead{ID: "r1", Service: lab.CivilStatus.String(), Method: "GET",
		Path: "/citizens/5", ConsumerSystem: "x", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, string(problem.AppliancePending), "exchange")
	rogue.conn.CloseWithError(0, "")
	if n := l.Backend.Requests.Load() - before; n != 0 {
		t.Fatalf("the backend was reached %d times by an unlisted appliance", n)
	}

	// Ops approve it: one command edits the source; sign and push follow.
	src := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(src, []byte(l.PolicySource(l.PolicyVersion())), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(t.TempDir(), "policy.json")
	for _, args := range [][]string{
		{"fleet", "approve", "--config", l.Exchange.Config, "--source", src},
		{"policy", "sign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), "--out", signed, src},
		{"policy", "push", "--config", l.Exchange.Config, signed},
	} {
		out, err := exec.Command(x, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("bab-exchange %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[1] == "approve" && !strings.Contains(string(out), "Added "+annexID.String()) {
			t.Fatalf("fleet approve: %s", out)
		}
	}
	if err := l.StartAppliance(ctx, annex); err != nil {
		t.Fatal(err)
	}
	if err := annex.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body = annexGet(t, annex, "/citizens/1")
	if resp.StatusCode != 200 {
		t.Fatalf("after approval: %d %s", resp.StatusCode, body)
	}
	var got map[string]any
	if json.Unmarshal(body, &got) != nil || got["asked_by"] != lab.Commune.String() {
		t.Errorf("after approval the backend saw %s", body)
	}
}

func annexGet(t *testing.T, a *lab.Appliance, path string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := a.Request(ctx, "GET", path)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return resp, []byte(b.String())
}
