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
	waitFor(t, 10*time.Second, func() error {
		resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
		if resp.StatusCode == 200 {
			return errString("still served after the revocation")
		}
		wantProblem(t, resp, body, problem.ExchangeUnreachable, "consumer")
		return nil
	})
	// It keeps trying, and keeps being refused.
	time.Sleep(2 * time.Second)
	if st, _ := l.Consumer.Status(); st == nil || st.Tunnels[0].Connected || !strings.Contains(st.Tunnels[0].LastError, "not enrolled") {
		t.Fatalf("revoked appliance's tunnel: %+v", st)
	}
	out, _ = exec.Command(x, "fleet", "ls", "--config", l.Exchange.Config).CombinedOutput()
	if !strings.Contains(string(out), "REVOKED") {
		t.Fatalf("fleet ls does not show the revocation:\n%s", out)
	}
}
