package e2e

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/internal/lab"
)

// babCmd runs the bab command and returns its output and exit status.
func babCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "bab"), args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("bab %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), 0
}

// wantLines fails t unless every prefix starts a line of out.
func wantLines(t *testing.T, what, out string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		found := false
		for l := range strings.SplitSeq(out, "\n") {
			if strings.HasPrefix(l, p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: no line starts with %q:\n%s", what, p, out)
		}
	}
}

// TestDoctor runs the real bab doctor against a lab appliance: while it
// runs (the network checks then go through its admin API) without
// disturbing its tunnel, while it is stopped (from its state file and
// TPM), and after ops revoked an appliance, when the exchange refuses it.
func TestDoctor(t *testing.T) {
	l := newLab(t, lab.Options{})
	a := l.Consumer
	xaddr := l.Exchange.Addr
	before, err := a.Status()
	if err != nil || len(before.Tunnels) != 1 || !before.Tunnels[0].Connected {
		t.Fatalf("status before: %+v %v", before, err)
	}

	out, code := babCmd(t, "doctor", "--config", a.Config)
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("bab doctor on a healthy running appliance: exit %d\n%s", code, out)
	}
	wantLines(t, "running", out,
		"ok   config           "+a.Config+" is valid",
		"ok   state directory  "+a.StateDir+" belongs to ",
		"ok   service          running",
		"ok   enrollment       enrolled as "+a.ID.String(),
		"ok   UDP              "+xaddr+": QUIC handshake completed",
		"ok   TCP              "+xaddr+": TLS over TCP works too",
		"ok   clock            "+xaddr+": this machine's clock agrees with the exchange's")
	t.Logf("bab doctor, service running:\n%s", out)

	// The probe went beside the tunnel: the same tunnel is still up, the
	// exchange holds one for the appliance, and requests flow.
	after, err := a.Status()
	if err != nil || !after.Tunnels[0].Connected || !after.Tunnels[0].Since.Equal(before.Tunnels[0].Since) {
		t.Errorf("the tunnel was disturbed: before %+v, after %+v (%v)", before.Tunnels, after.Tunnels, err)
	}
	var fleet []exchange.ApplianceView
	if err := getJSON(l, "/v1/appliances", &fleet); err != nil {
		t.Fatal(err)
	}
	for _, v := range fleet {
		if v.ID == a.ID.String() && (v.Tunnels != 1 || !v.Connected) {
			t.Errorf("the exchange holds %d tunnels of %s after the probe, want 1", v.Tunnels, v.ID)
		}
	}
	if resp, body := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Errorf("request after doctor: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(l.Exchange.Log(), "answered a probe") {
		t.Errorf("the exchange did not see a probe")
	}

	// Stopped: doctor reads the state file and uses the key itself.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	out, code = babCmd(t, "doctor", "--config", a.Config)
	if code != 0 {
		t.Fatalf("bab doctor on a stopped appliance: exit %d\n%s", code, out)
	}
	wantLines(t, "stopped", out,
		"warn service          not running",
		"ok   enrollment       enrolled as "+a.ID.String(),
		"ok   UDP              "+xaddr+": QUIC handshake completed",
		"ok   clock            "+xaddr+": this machine's clock")
	t.Logf("bab doctor, service stopped:\n%s", out)

	// Ops revoke the running provider: doctor says the exchange refuses
	// it and exits non-zero; status lists the refusals among the last
	// errors.
	p := l.Provider
	if err := l.Exchange.Call("POST", "/v1/revoke/"+p.ID.String(), nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		st, err := p.Status()
		if err != nil {
			return err
		}
		if len(st.Recent) == 0 {
			return errString("no warning recorded yet")
		}
		return nil
	})
	out, code = babCmd(t, "doctor", "--config", p.Config)
	if code != 1 {
		t.Errorf("bab doctor on a revoked appliance: exit %d, want 1\n%s", code, out)
	}
	wantLines(t, "revoked", out,
		"ok   service          running",
		"FAIL enrollment       enrolled as "+p.ID.String(),
		"FAIL UDP              "+xaddr+" answers, but this appliance was revoked by the exchange")
	if !strings.Contains(out, "fix: the exchange refuses this appliance's key for good") {
		t.Errorf("revoked: no fix:\n%s", out)
	}
	t.Logf("bab doctor, appliance revoked:\n%s", out)
	out, code = babCmd(t, "status", "--config", p.Config)
	if code != 0 {
		t.Fatalf("bab status: exit %d\n%s", code, out)
	}
	wantLines(t, "status", out, "Appliance   "+p.ID.String()+" (member "+p.ID.Member.String()+")", "Tunnel      "+xaddr+" REVOKED", "Last errors 20")
	if !strings.Contains(out, "ERROR the exchange revoked this appliance") {
		t.Errorf("status does not show the tunnel's warnings:\n%s", out)
	}
	t.Logf("bab status, appliance revoked:\n%s", out)
}
