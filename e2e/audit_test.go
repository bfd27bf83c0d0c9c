package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/internal/lab"
)

// TestExchangeReadOnlyGroupCannotRevoke plays an auditor given read-only
// access to the exchange (the read-only group): they list the fleet, then
// try to revoke an appliance, through the CLI and straight at the socket.
// The revocation is refused with 403 and nothing changes. They may check
// the trace log and take a receipt.
func TestExchangeReadOnlyGroupCannotRevoke(t *testing.T) {
	ro := newLocalGroup(t)
	l := newLab(t, lab.Options{ReadOnlyGroup: ro.Name})
	auditor, stranger := newLocalUser(t, ro), newLocalUser(t)
	traversable(t, binDir, l.Exchange.Socket)
	x := filepath.Join(binDir, "bab-exchange")
	hq := lab.CommuneHQ.String()

	out, code := runAs(t, auditor, x, "fleet", "ls", "--config", l.Exchange.Config)
	if code != 0 || !strings.Contains(out, hq) {
		t.Fatalf("fleet ls as a member of the read-only group: exit %d, want the fleet:\n%s", code, out)
	}
	out, code = runAs(t, auditor, x, "appliance", "revoke", "--config", l.Exchange.Config, hq)
	if code == 0 || !strings.Contains(out, "read-only") {
		t.Errorf("appliance revoke as a member of the read-only group: exit %d, want a refusal saying why:\n%s", code, out)
	}
	out, _ = runAs(t, auditor, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
		"--unix-socket", l.Exchange.Socket, "http://exchange/v1/revoke/"+hq)
	if out != "403" {
		t.Errorf("POST /v1/revoke on the socket as a member of the read-only group: HTTP %s, want 403", out)
	}

	// The read-only group may check the trace log, read its key and take
	// receipts: all of them only read.
	resp, _ := do(t, l, "GET", "/citizens/2", nil, nil)
	for _, args := range [][]string{{"trace", "verify"}, {"trace", "key"}, {"trace", "receipt", resp.Header.Get("Bab-Request-Id")}} {
		out, code := runAs(t, auditor, x, append(args, "--config", l.Exchange.Config)...)
		if code != 0 {
			t.Errorf("%s as a member of the read-only group: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}

	// Someone in neither group does not get in at all.
	out, code = runAs(t, stranger, x, "fleet", "ls", "--config", l.Exchange.Config)
	if code == 0 || !strings.Contains(out, "permission denied") || !strings.Contains(out, "usermod -aG") {
		t.Errorf("fleet ls as a user in no admin group: exit %d, want permission denied and what to do:\n%s", code, out)
	}

	var d exchange.ApplianceDetail
	if err := getJSON(l, "/v1/appliances/"+hq, &d); err != nil {
		t.Fatal(err)
	}
	if d.Revoked || !d.Connected {
		t.Errorf("after the refused revocations %s is revoked %v, connected %v; want untouched", hq, d.Revoked, d.Connected)
	}
	if resp, body := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Errorf("a request after the refused revocations: %d %s", resp.StatusCode, body)
	}
	// Both attempts are in the audit log, refused, with the auditor's uid.
	var all []exchange.AuditRecord
	if err := getJSON(l, "/v1/audit", &all); err != nil {
		t.Fatal(err)
	}
	records := byUser(all, auditor)
	if len(records) != 2 {
		t.Fatalf("audit log after two refused revocations: %+v", records)
	}
	for _, r := range records {
		if r.UID != auditor.UID || r.User != auditor.Name || r.Role != "read-only" || r.Status != 403 || r.Outcome != "read_only" || r.Path != "/v1/revoke/"+hq {
			t.Errorf("audit record of a refused revocation: %+v", r)
		}
	}
}

// TestExchangeAuditRecordsEveryOpsAction: a member of ops takes every kind
// of action through the CLI (a token, a push, a staged push promoted,
// another aborted, a rebaseline, a revocation). Each leaves an audit
// record with their uid and name, what they did and how it ended, which
// bab-exchange audit ls lists; so does a refused attempt.
func TestExchangeAuditRecordsEveryOpsAction(t *testing.T) {
	ops := newLocalGroup(t)
	l := newLab(t, lab.Options{ExchangeGroup: ops.Name})
	alice := newLocalUser(t, ops)
	traversable(t, binDir, l.Exchange.Socket)
	dir := t.TempDir()
	traversable(t, dir)
	bundle := func(v uint64) string {
		b, err := policySign(l.DefaultPolicy(v, time.Now().UTC()), l.OpsKey)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("v%d.json", v))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v := l.PolicyVersion()
	x := filepath.Join(binDir, "bab-exchange")
	cfg := l.Exchange.Config
	hq, dc := lab.CommuneHQ.String(), lab.RegistryDC.String()
	steps := []struct {
		args []string
		path string            // what the audit record names
		want map[string]string // arguments it must hold
		ok   bool
	}{
		{[]string{"token", "create", "--config", cfg, "--member", "MA/MUN/RABAT", "--name", "annex"}, "/v1/tokens", map[string]string{"member": "MA/MUN/RABAT", "name": "annex"}, true},
		{[]string{"policy", "push", "--config", cfg, bundle(v + 1)}, "/v1/policy", map[string]string{"version": fmt.Sprint(v + 1)}, true},
		{[]string{"policy", "push", "--config", cfg, "--stage", "appliance:" + hq, bundle(v + 2)}, "/v1/policy", map[string]string{"version": fmt.Sprint(v + 2), "stage": "appliance:" + hq}, true},
		{[]string{"policy", "rollout", "promote", "--config", cfg}, "/v1/rollout/promote", map[string]string{"version": fmt.Sprint(v + 2)}, true},
		{[]string{"policy", "push", "--config", cfg, "--stage", "appliance:" + hq, bundle(v + 3)}, "/v1/policy", map[string]string{"version": fmt.Sprint(v + 3)}, true},
		{[]string{"policy", "rollout", "abort", "--config", cfg, bundle(v + 4)}, "/v1/rollout/abort", map[string]string{"version": fmt.Sprint(v + 4)}, true},
		{[]string{"policy", "push", "--config", cfg, bundle(v + 1)}, "/v1/policy", map[string]string{"version": fmt.Sprint(v + 1)}, false}, // not newer
		{[]string{"appliance", "rebaseline", "--config", cfg, dc}, "/v1/rebaseline/" + dc, map[string]string{"appliance": dc}, l.Provider.TPM != nil},
		{[]string{"appliance", "revoke", "--config", cfg, hq}, "/v1/revoke/" + hq, map[string]string{"appliance": hq}, true},
	}
	token := ""
	for i, s := range steps {
		out, code := runAs(t, alice, x, s.args...)
		if (code == 0) != s.ok {
			t.Fatalf("bab-exchange %s as a member of ops: exit %d, want success %v:\n%s", strings.Join(s.args, " "), code, s.ok, out)
		}
		if i == 0 {
			token, _, _ = strings.Cut(out, "\n") // printed first, alone on its line
		}
	}

	out, code := runAs(t, alice, x, "audit", "ls", "--config", cfg, "-o", "json")
	if code != 0 {
		t.Fatalf("audit ls: exit %d\n%s", code, out)
	}
	// Whoever reads the audit log (the read-only group may) does not
	// learn the token.
	if len(token) < 20 || strings.Contains(out, token) {
		t.Errorf("the audit log holds the enrollment token %q:\n%s", token, out)
	}
	var all []exchange.AuditRecord
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("audit ls -o json: %v\n%s", err, out)
	}
	// The lab's own setup (its tokens, its first push) was audited too, as
	// root's.
	records := byUser(all, alice)
	if len(records) != len(steps) || len(all) <= len(records) {
		t.Errorf("audit ls lists %d records after %d actions:\n%s", len(records), len(steps), out)
	}
	// Newest first.
	for i, s := range steps {
		j := len(steps) - 1 - i
		if j >= len(records) {
			break
		}
		r := records[j]
		if r.UID != alice.UID || r.User != alice.Name || r.Method != "POST" || r.Path != s.path || (r.Outcome == "ok") != s.ok || r.At.IsZero() {
			t.Errorf("record of %v: %+v; want uid %d (%s), POST %s, success %v", s.args, r, alice.UID, alice.Name, s.path, s.ok)
		}
		for k, want := range s.want {
			if r.Args[k] != want {
				t.Errorf("record of %v: argument %s = %q, want %q (%+v)", s.args, k, r.Args[k], want, r)
			}
		}
	}
	table, code := runAs(t, alice, x, "audit", "ls", "--config", cfg)
	if code != 0 || !strings.Contains(table, alice.Name) || !strings.Contains(table, "/v1/revoke/"+hq) {
		t.Errorf("audit ls as a table: exit %d, want the user and the revocation:\n%s", code, table)
	}
}

// byUser keeps the records of u's calls.
func byUser(all []exchange.AuditRecord, u localUser) []exchange.AuditRecord {
	var out []exchange.AuditRecord
	for _, r := range all {
		if r.UID == u.UID {
			out = append(out, r)
		}
	}
	return out
}
