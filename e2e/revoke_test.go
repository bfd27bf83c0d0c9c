package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestRevokeAppliance: ops take the commune's appliance out; its tunnel
// closes at once, it cannot come back, and the fleet view says why.
func TestRevokeAppliance(t *testing.T) {
	l := newLab(t, lab.Options{})
	x := filepath.Join(binDir, "bab-exchange")
	out, err := exec.Command(x, "appliance", "revoke", "--config", l.Exchange.Config, lab.CommuneHQ.String()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Revoked MA/MUN/RABAT:hq") || !strings.Contains(string(out), "REVOKED") {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	// Local systems are told the appliance was revoked (once its next
	// attempt was refused), not that the exchange is unreachable.
	waitFor(t, 20*time.Second, func() error {
		resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
		if resp.StatusCode == 200 {
			return errString("still served after the revocation")
		}
		if !strings.Contains(string(body), string(problem.ApplianceRevoked)) {
			return errString("problem is not appliance_revoked: " + string(body))
		}
		wantProblem(t, resp, body, problem.ApplianceRevoked, "consumer")
		return nil
	})
	// It keeps trying, and keeps being refused.
	time.Sleep(2 * time.Second)
	if st, _ := l.Consumer.Status(); st == nil || st.Tunnels[0].Connected || !st.Tunnels[0].Revoked || !strings.Contains(st.Tunnels[0].LastError, "revoked by the exchange") {
		t.Fatalf("revoked appliance's tunnel: %+v", st)
	}
	out, _ = exec.Command(x, "fleet", "ls", "--config", l.Exchange.Config).CombinedOutput()
	if !strings.Contains(string(out), "REVOKED") {
		t.Fatalf("fleet ls does not show the revocation:\n%s", out)
	}
}

// TestRevokedApplianceIsToldWhy: a revoked appliance learns from the
// exchange that it was revoked, rather than finding the exchange
// unreachable: bab status and bab doctor say so, and it keeps trying with
// backoff in case ops enroll it again.
func TestRevokedApplianceIsToldWhy(t *testing.T) {
	// Over the TCP fallback too: the reason travels in its close signal.
	for _, tr := range []string{"quic", "tcp"} {
		t.Run(tr, func(t *testing.T) { revokedToldWhy(t, tr) })
	}
}

func revokedToldWhy(t *testing.T, transport string) {
	l := newLab(t, lab.Options{Transport: transport})
	a := l.Consumer
	if out, err := exchangeCmd(l, "appliance", "revoke", a.ID.String()); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	var out string
	waitFor(t, 20*time.Second, func() error {
		out, _ = babCmd(t, "status", "--config", a.Config)
		if !strings.Contains(out, "revoked by the exchange") {
			return errString("bab status does not say the appliance was revoked:\n" + out)
		}
		return nil
	})
	t.Logf("bab status:\n%s", out)
	st, err := a.Status()
	if err != nil {
		t.Fatal(err)
	}
	attempts := st.Tunnels[0].Attempts
	out, code := babCmd(t, "doctor", "--config", a.Config)
	if code != 1 || !strings.Contains(out, "revoked by the exchange") {
		t.Errorf("bab doctor: exit %d\n%s", code, out)
	}
	t.Logf("bab doctor:\n%s", out)
	waitFor(t, 40*time.Second, func() error {
		st, err := a.Status()
		if err != nil {
			return err
		}
		if st.Tunnels[0].Attempts <= attempts {
			return errString("the tunnel stopped trying")
		}
		return nil
	})
}
