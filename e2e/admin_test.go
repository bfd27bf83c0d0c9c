package e2e

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestAdminLocalUserCannotReadStatusOrProbe plays a local user of the
// office's server who is not in the appliance's admin group: through bab
// status, bab doctor, and straight at the admin addresses, they must not
// read the appliance's status (its identity, tunnels, recent warnings) nor
// make it probe the exchanges (which signs with its TPM key).
func TestAdminLocalUserCannotReadStatusOrProbe(t *testing.T) {
	admins := newLocalGroup(t)
	l := newLab(t, lab.Options{AdminGroup: admins.Name})
	a := l.Consumer
	mallory, clerk := newLocalUser(t), newLocalUser(t, admins)
	traversable(t, binDir, a.Socket)
	bab := filepath.Join(binDir, "bab")

	// The office's IT staff, in the admin group, use bab status as usual.
	if out, code := runAs(t, clerk, bab, "status", "--config", a.Config); code != 0 || !strings.Contains(out, a.ID.String()) {
		t.Fatalf("bab status as a member of the admin group: exit %d, want the status:\n%s", code, out)
	}

	out, code := runAs(t, mallory, bab, "status", "--config", a.Config)
	if code == 0 || strings.Contains(out, a.ID.String()) {
		t.Errorf("bab status as a user outside the admin group: exit %d, it read the status:\n%s", code, out)
	}
	for _, want := range []string{"permission denied", "sudo", "usermod -aG " + admins.Name} {
		if !strings.Contains(out, want) {
			t.Errorf("bab status as a user outside the admin group does not say %q:\n%s", want, out)
		}
	}

	probes := strings.Count(l.Exchange.Log(), "answered a probe")
	out, _ = runAs(t, mallory, bab, "doctor", "--config", a.Config)
	if !strings.Contains(out, "FAIL service          not checked: permission denied") || !strings.Contains(out, "usermod -aG "+admins.Name) {
		t.Errorf("bab doctor as a user outside the admin group does not say why it cannot check the service:\n%s", out)
	}
	if n := strings.Count(l.Exchange.Log(), "answered a probe"); n != probes {
		t.Errorf("bab doctor as a user outside the admin group made the appliance probe the exchange (%d probes, before %d):\n%s", n, probes, out)
	}

	// Straight at the TCP address, as any local user can.
	for _, c := range []struct{ method, path string }{{"GET", "/v1/status"}, {"POST", "/v1/probe"}} {
		out, _ := runAs(t, mallory, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", c.method, a.AdminURL+c.path)
		if out != "404" {
			t.Errorf("%s %s on the TCP admin address as a local user: HTTP %s, want 404", c.method, c.path, out)
		}
	}
	if n := strings.Count(l.Exchange.Log(), "answered a probe"); n != probes {
		t.Errorf("POST /v1/probe on the TCP address made the appliance probe the exchange")
	}

	// Straight at the control socket, which is there (the member used it):
	// the kernel refuses the connection (curl's exit status 7).
	if _, err := os.Stat(a.Socket); err != nil {
		t.Fatal(err)
	}
	out, code = runAs(t, mallory, "curl", "-sS", "--unix-socket", a.Socket, "http://bab/v1/status")
	if code != 7 {
		t.Errorf("curl on the control socket as a user outside the admin group: exit %d, want 7 (could not connect):\n%s", code, out)
	}
}

// TestAdminForeignHostRefused plays a web page in a browser on the server
// that made its own name resolve to 127.0.0.1 (DNS rebinding): its
// requests carry its own name in Host. Every admin address refuses them:
// the appliance's and the exchange's TCP addresses (metrics and health)
// and both admin sockets.
func TestAdminForeignHostRefused(t *testing.T) {
	l := newLab(t, lab.Options{})
	a := l.Consumer
	const evil = "attacker.example"
	for _, u := range []string{a.AdminURL + "/metrics", a.AdminURL + "/healthz", a.AdminURL + "/v1/status", l.Exchange.AdminURL + "/metrics"} {
		req, _ := http.NewRequest("GET", u, nil)
		req.Host = evil
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host %s: %s, want 421", u, evil, resp.Status)
		}
	}
	for name, sock := range map[string]string{
		"appliance": a.Socket,
		"exchange":  l.Exchange.Socket,
	} {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
		resp, err := c.Get("http://" + evil + "/v1/status")
		if err != nil {
			t.Errorf("%s socket: %v", name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("%s socket, GET /v1/status with Host %s: %s, want 421", name, evil, resp.Status)
		}
	}
}
