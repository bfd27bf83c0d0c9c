package packaging

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
)

// Loopback only: the container has no other network.
const (
	exchangeConfig = `version: 1
listen: 127.0.0.1:7700
names: [127.0.0.1]
ops_keys: [/etc/bab-exchange/ops-1.pub]
attestation:
  # The container has no TPM.
  allow_software_keys: true
`
	applianceConfig = `version: 1
tpm:
  device: none
`
)

// TestServicesUnderSystemd installs both packages in a container booted
// with systemd and runs them the way an office and central ops do: the
// exchange configured and started, the appliance enrolled as root and
// started, the appliance's tunnel up as the exchange sees it, socket
// activation of the gateway, who may use the admin sockets, an upgrade
// that restarts both, a removal that stops them. Everything runs under the units' full hardening (seccomp,
// namespaces, private /dev, user namespace), so a hardening setting that
// breaks a daemon fails here, not in an office.
func TestServicesUnderSystemd(t *testing.T) {
	c := bootContainer(t) // before the build: it may skip
	oldDebs := builtPackages(t, oldVersion)
	newDebs := builtPackages(t, newVersion)
	for _, v := range []map[string]string{oldDebs, newDebs} {
		for _, deb := range v {
			c.copyIn(t, deb, "/root/"+filepath.Base(deb))
		}
	}
	// An image built for containers may refuse service actions to package
	// scripts (policy-rc.d exiting 101); this container wants them. The
	// change stays in the container's overlay.
	c.must(t, "sh", "-c", "if [ -e /usr/sbin/policy-rc.d ]; then mv /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.off; fi")

	c.must(t, "dpkg", "-i", "/root/"+filepath.Base(oldDebs["bab-exchange"]), "/root/"+filepath.Base(oldDebs["bab"]))
	for _, u := range []string{"bab.service", "bab.socket", "bab-exchange.service"} {
		if st := c.show(t, u)["ActiveState"]; st != "inactive" {
			t.Errorf("%s is %s right after installing; the packages must not start it", u, st)
		}
	}

	// Central ops: a key, the config, the exchange.
	c.must(t, "bab-exchange", "policy", "keygen", "--out", "/etc/bab-exchange/ops-1")
	c.write(t, "/etc/bab-exchange/bab-exchange.yaml", exchangeConfig)
	start(t, c, "bab-exchange.service")
	out := c.must(t, "bab-exchange", "token", "create", "--member", "MA/MUN/RABAT", "--json")
	var tok exchange.TokenResponse
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token create: %v: %s", err, out)
	}

	// The office: config, enrollment as root, the service.
	c.write(t, "/etc/bab/bab.yaml", applianceConfig)
	c.must(t, "bab", "enroll", "--exchange", "127.0.0.1:7700", "--token", tok.Token, "--name", "office1")
	if owner := strings.TrimSpace(c.must(t, "stat", "-c", "%U:%G %a", "/var/lib/bab/bab.db")); owner != "bab:bab 600" {
		t.Errorf("after bab enroll as root, the state file is %s, want bab:bab 600", owner)
	}
	start(t, c, "bab.service")
	awaitAppliance(t, c, oldVersion)

	// Socket activation: systemd holds the gateway's socket and starts
	// the appliance on the first connection.
	c.must(t, "systemctl", "stop", "bab.service")
	c.must(t, "systemctl", "start", "bab.socket")
	status := c.must(t, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /MA/GOV/X/y HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3`)
	if !strings.HasPrefix(status, "HTTP/1.") {
		t.Errorf("the gateway through bab.socket answered %q, want an HTTP status line\n%s", status, c.journal("bab.service"))
	}
	// The first answer may come before the service tells systemd it is
	// ready (it answers from the socket while it starts): wait for it.
	var state string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if state = c.show(t, "bab.service")["ActiveState"]; state == "active" {
			break
		}
	}
	if state != "active" {
		t.Errorf("bab.service is %s 30 s after a connection to bab.socket\n%s", state, c.journal("bab.service"))
	}
	awaitAppliance(t, c, oldVersion)
	checkJournalAndStatus(t, c)
	checkAdminSockets(t, c)

	// The upgrade restarts both daemons with the new binaries.
	before := map[string]string{"bab.service": c.show(t, "bab.service")["MainPID"], "bab-exchange.service": c.show(t, "bab-exchange.service")["MainPID"]}
	c.must(t, "dpkg", "-i", "/root/"+filepath.Base(newDebs["bab-exchange"]), "/root/"+filepath.Base(newDebs["bab"]))
	for u, pid := range before {
		p := c.show(t, u)
		if p["ActiveState"] != "active" || p["MainPID"] == pid || p["MainPID"] == "0" {
			t.Errorf("after the upgrade %s is %s with pid %s (was %s): want restarted\n%s", u, p["ActiveState"], p["MainPID"], pid, c.journal(u))
		}
	}
	awaitAppliance(t, c, newVersion)
	for u := range before {
		if p := c.show(t, u); p["NRestarts"] != "0" || p["WatchdogUSec"] != "30s" {
			t.Errorf("%s: %s restarts by systemd (want 0), watchdog %s (want 30s)\n%s", u, p["NRestarts"], p["WatchdogUSec"], c.journal(u))
		}
	}

	c.must(t, "dpkg", "-r", "bab", "bab-exchange")
	for _, u := range []string{"bab.service", "bab.socket", "bab-exchange.service"} {
		if st := c.show(t, u)["ActiveState"]; st != "inactive" {
			t.Errorf("%s is %s after removing the package, want stopped", u, st)
		}
	}
}

// start enables and starts a unit. For Type=notify, systemctl returns once
// the daemon said READY=1, or fails.
func start(t *testing.T, c *container, unit string) {
	t.Helper()
	if out, err := c.run("systemctl", "enable", "--now", unit); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, c.journal(unit))
	}
	if p := c.show(t, unit); p["ActiveState"] != "active" || p["SubState"] != "running" {
		t.Fatalf("%s is %s/%s\n%s", unit, p["ActiveState"], p["SubState"], c.journal(unit))
	}
}

// awaitAppliance waits until the exchange lists office1 connected and
// running version.
func awaitAppliance(t *testing.T, c *container, version string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := c.run("bab-exchange", "fleet", "ls", "-o", "json")
		last = out
		if err != nil {
			continue
		}
		var fleet []exchange.ApplianceView
		if json.Unmarshal([]byte(out), &fleet) != nil {
			continue
		}
		for _, a := range fleet {
			if strings.HasSuffix(a.ID, ":office1") && a.Connected && strings.Contains(a.Software, version) {
				return
			}
		}
	}
	t.Fatalf("the exchange does not list office1 connected with %s after 30s:\n%s\n%s", version, last, c.journal("bab.service"))
}

// checkJournalAndStatus: under systemd the appliance logs to the journal
// with its attributes as fields (the tokenless request above was refused
// and logged with its outcome and request id), and its status line says
// what it is doing.
func checkJournalAndStatus(t *testing.T, c *container) {
	t.Helper()
	var entry map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := c.run("journalctl", "--no-pager", "-o", "json", "-u", "bab.service", "OUTCOME=unauthenticated")
		if err != nil {
			continue
		}
		if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); line != "" && json.Unmarshal([]byte(line), &entry) == nil {
			break
		}
	}
	if entry == nil {
		t.Fatalf("no journal entry with OUTCOME=unauthenticated for the tokenless request:\n%s", c.journal("bab.service"))
	}
	for k, want := range map[string]string{"SYSLOG_IDENTIFIER": "bab", "SUBSYS": "gateway", "MESSAGE": "request refused", "HOP": "consumer", "PRIORITY": "6"} {
		if entry[k] != want {
			t.Errorf("journal field %s = %v, want %q (entry %v)", k, entry[k], want, entry)
		}
	}
	if id, _ := entry["REQUEST_ID"].(string); len(id) < 8 {
		t.Errorf("journal entry without a request id: %v", entry)
	}
	if _, ok := entry["DURATION"]; !ok {
		t.Errorf("journal entry without a duration: %v", entry)
	}
	var text string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if text = c.show(t, "bab.service")["StatusText"]; strings.Contains(text, "1 of 1 tunnels up") {
			break
		}
	}
	if !strings.Contains(text, "1 of 1 tunnels up") || !strings.Contains(text, "gateway on 127.0.0.1:8080") {
		t.Errorf("status line %q, want the tunnel up and the gateway's address", text)
	}
}

// checkAdminSockets plays office staff, a stranger, ops and an auditor at
// the admin sockets, under the units' real hardening and the packages'
// real file modes: a member of bab-admin reads the appliance's status, a
// user outside it is refused and told what to do, TCP serves no status;
// at the exchange a member of bab-exchange-ro lists but cannot revoke, a
// member of bab-exchange acts, and the audit log holds each with its real
// uid.
func checkAdminSockets(t *testing.T, c *container) {
	t.Helper()
	// bab:bab 660, and an ACL entry lets bab-admin in (the member below).
	if got := strings.TrimSpace(c.must(t, "stat", "-c", "%U:%G %a", "/run/bab/admin.sock")); got != "bab:bab 660" {
		t.Errorf("the appliance's control socket is %s, want bab:bab 660\n%s", got, c.journal("bab.service"))
	}
	users := map[string]string{"clerk": "bab-admin", "mallory": "", "opsuser": "bab-exchange", "auditor": "bab-exchange-ro"}
	uids := map[string]string{}
	for u, g := range users {
		args := []string{"useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", u}
		if g != "" {
			args = append(args, "--groups", g)
		}
		c.must(t, args...)
		uids[u] = strings.TrimSpace(c.must(t, "id", "-u", u))
	}
	as := func(user string, args ...string) (string, error) {
		return c.run(append([]string{"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"}, args...)...)
	}

	if out, err := as("clerk", "bab", "status"); err != nil || !strings.Contains(out, "Appliance   MA/MUN/RABAT:office1") {
		t.Errorf("bab status as a member of bab-admin: %v\n%s", err, out)
	}
	if out, err := as("mallory", "bab", "status"); err == nil || !strings.Contains(out, "permission denied") || !strings.Contains(out, "usermod -aG bab-admin") {
		t.Errorf("bab status as a user outside bab-admin: %v, want permission denied and what to do:\n%s", err, out)
	}
	status := c.must(t, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/7701 && printf 'GET /v1/status HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3`)
	if !strings.Contains(status, " 404 ") {
		t.Errorf("GET /v1/status on the appliance's TCP address: %q, want 404", status)
	}

	office1 := "MA/MUN/RABAT:office1"
	if out, err := as("auditor", "bab-exchange", "fleet", "ls"); err != nil || !strings.Contains(out, office1) {
		t.Errorf("fleet ls as a member of bab-exchange-ro: %v\n%s", err, out)
	}
	if out, err := as("auditor", "bab-exchange", "appliance", "revoke", office1); err == nil || !strings.Contains(out, "read-only") {
		t.Errorf("appliance revoke as a member of bab-exchange-ro: %v, want a refusal\n%s", err, out)
	}
	if out, err := as("mallory", "bab-exchange", "fleet", "ls"); err == nil || !strings.Contains(out, "permission denied") {
		t.Errorf("fleet ls as a user in neither group: %v, want permission denied\n%s", err, out)
	}
	if out, err := as("opsuser", "bab-exchange", "token", "create", "--member", "MA/MUN/RABAT"); err != nil {
		t.Errorf("token create as a member of bab-exchange: %v\n%s", err, out)
	}
	var records []exchange.AuditRecord
	out := c.must(t, "bab-exchange", "audit", "ls", "-o", "json")
	if err := json.Unmarshal([]byte(out), &records); err != nil {
		t.Fatalf("audit ls: %v\n%s", err, out)
	}
	seen := map[string]string{}
	for _, r := range records {
		seen[fmt.Sprint(r.UID)+" "+r.User] = r.Outcome
	}
	for u, outcome := range map[string]string{"auditor": "read_only", "opsuser": "ok"} {
		if got := seen[uids[u]+" "+u]; got != outcome {
			t.Errorf("no audit record of %s (uid %s) with outcome %s: %v", u, uids[u], outcome, seen)
		}
	}
}
