package e2e

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
)

// enrollFresh runs the real bab enroll for a new appliance directory and
// returns its combined output.
func enrollFresh(t *testing.T, l *lab.Lab, dir, token, name string, extra ...string) (string, error) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "bab.yaml")
	if _, err := os.Stat(cfg); err != nil {
		// Extra appliances share the consumer's TPM: its maker's CA is one
		// the exchange trusts, and a TPM holds keys for several of them.
		body := fmt.Sprintf("version: 1\nstate_dir: %s\ntpm:\n  device: %s\n", filepath.Join(dir, "state"), lab.TPMDevice(l.Consumer.TPM))
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"enroll", "--config", cfg, "--exchange", l.Exchange.Addr, "--token", token, "--name", name}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "bab"), args...).CombinedOutput()
	return string(out), err
}

func TestEnrollmentTokens(t *testing.T) {
	l := newLab(t, lab.Options{})
	dir := t.TempDir()

	tok, err := l.CreateToken(lab.Commune, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := enrollFresh(t, l, filepath.Join(dir, "a"), tok, "annex")
	if err != nil || !strings.Contains(out, "Enrolled as MA/MUN/RABAT:annex") {
		t.Fatalf("first use: %v\n%s", err, out)
	}
	// Single use: a second appliance cannot reuse it.
	out, err = enrollFresh(t, l, filepath.Join(dir, "b"), tok, "annex2")
	if err == nil || !strings.Contains(out, "token_used") || !strings.Contains(out, "single use") {
		t.Fatalf("reuse: %v\n%s", err, out)
	}
	// An appliance that is enrolled says so instead of overwriting itself.
	tok2, _ := l.CreateToken(lab.Commune, "")
	out, err = enrollFresh(t, l, filepath.Join(dir, "a"), tok2, "annex")
	if err == nil || !strings.Contains(out, "already enrolled as MA/MUN/RABAT:annex") || !strings.Contains(out, "--reenroll") {
		t.Fatalf("enroll twice: %v\n%s", err, out)
	}
	// --reenroll with a token that does not say to replace the enrolled
	// name is refused by the exchange, which says how; with a --replace
	// token it replaces the identity.
	out, err = enrollFresh(t, l, filepath.Join(dir, "a"), tok2, "annex", "--reenroll")
	if err == nil || !strings.Contains(out, "appliance_exists") || !strings.Contains(out, "--replace NAME") {
		t.Fatalf("reenroll without --replace: %v\n%s", err, out)
	}
	tok3, err := l.CreateReplaceToken(ident.MustAppliance("MA/MUN/RABAT:annex"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = enrollFresh(t, l, filepath.Join(dir, "a"), tok3, "annex", "--reenroll")
	if err != nil || !strings.Contains(out, "Enrolled as") {
		t.Fatalf("reenroll: %v\n%s", err, out)
	}

	// A token bound to a name refuses another name, and stays unspent.
	bound, _ := l.CreateToken(lab.Commune, "kiosk")
	out, err = enrollFresh(t, l, filepath.Join(dir, "c"), bound, "other")
	if err == nil || !strings.Contains(out, `bound to another appliance name`) {
		t.Fatalf("bound token, other name: %v\n%s", err, out)
	}
	if out, err = enrollFresh(t, l, filepath.Join(dir, "c"), bound, "kiosk"); err != nil {
		t.Fatalf("bound token, its name: %v\n%s", err, out)
	}

	// An expired token.
	var tr exchange.TokenResponse
	if err := l.Exchange.Call("POST", "/v1/tokens", []byte(`{"member":"MA/MUN/RABAT","ttl":"1ms"}`), &tr); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	out, err = enrollFresh(t, l, filepath.Join(dir, "d"), tr.Token, "late")
	if err == nil || !strings.Contains(out, "token_expired") {
		t.Fatalf("expired: %v\n%s", err, out)
	}

	// A mistyped secret, a token that is not one, a token whose pin
	// names another exchange's CA, one whose fingerprint names other ops
	// keys, and one of the older form, without the fingerprint.
	fresh, _ := l.CreateToken(lab.Commune, "")
	parts := strings.Split(fresh, ".")
	if len(parts) != 4 {
		t.Fatalf("token %q is not ID.SECRET.PIN.OPS", fresh)
	}
	with := func(i int, part string) string {
		p := append([]string(nil), parts...)
		p[i] = part
		return strings.Join(p, ".")
	}
	out, err = enrollFresh(t, l, filepath.Join(dir, "e"), with(1, strings.Repeat("A", len(parts[1]))), "e")
	if err == nil || !strings.Contains(out, "token_invalid") {
		t.Fatalf("wrong secret: %v\n%s", err, out)
	}
	out, err = enrollFresh(t, l, filepath.Join(dir, "e"), "hello", "e")
	if err == nil || !strings.Contains(out, "malformed") {
		t.Fatalf("not a token: %v\n%s", err, out)
	}
	out, err = enrollFresh(t, l, filepath.Join(dir, "e"), with(2, strings.Repeat("B", len(parts[2]))), "e")
	if err == nil || !strings.Contains(out, "pin") {
		t.Fatalf("wrong pin: %v\n%s", err, out)
	}
	_, stranger, _ := policyGenerateKey()
	otherOps := policy.Trust{Keys: []ed25519.PublicKey{stranger.Public().(ed25519.PublicKey)}}.Fingerprint()
	out, err = enrollFresh(t, l, filepath.Join(dir, "e"), with(3, otherOps), "e")
	if err == nil || !strings.Contains(out, "token_wrong_ops_keys") || !strings.Contains(out, "new token") {
		t.Fatalf("fingerprint of other ops keys: %v\n%s", err, out)
	}
	out, err = enrollFresh(t, l, filepath.Join(dir, "e"), strings.Join(parts[:3], "."), "e")
	if err == nil || !strings.Contains(out, "malformed") || !strings.Contains(out, "no ops key fingerprint") {
		t.Fatalf("a token without the fingerprint: %v\n%s", err, out)
	}
	// The mistyped secret did not spend the real token.
	if out, err = enrollFresh(t, l, filepath.Join(dir, "e"), fresh, "e"); err != nil {
		t.Fatalf("real token after failed attempts: %v\n%s", err, out)
	}
}

func TestOpsCommandLine(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	x := filepath.Join(binDir, "bab-exchange")
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, x, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("bab-exchange %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// Ops write the policy source, sign it offline with their key, push it.
	src := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(src, []byte(l.PolicySource(7)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Before signing, ops check the source and review what it changes.
	check := run("policy", "check", "--config", l.Exchange.Config, src)
	for _, want := range []string{"policy.yaml is valid: policy v7", "Changes against the current policy v1 (with the keys filled):", "~ version 1 → 7"} {
		if !strings.Contains(check, want) {
			t.Fatalf("policy check lacks %q:\n%s", want, check)
		}
	}
	bundle := filepath.Join(dir, "policy.signed.json")
	out := run("policy", "sign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), "--out", bundle, src)
	if !strings.Contains(out, "Signed policy v7") {
		t.Fatalf("sign: %s", out)
	}
	out = run("policy", "push", "--config", l.Exchange.Config, bundle)
	if !strings.Contains(out, "Policy v7 is current; sent to 2 connected appliance(s)") {
		t.Fatalf("push: %s", out)
	}
	if err := l.AwaitPolicy(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if out = run("policy", "show", "--config", l.Exchange.Config); !strings.Contains(out, "Policy v7") {
		t.Fatalf("show: %s", out)
	}
	// Pushing the same bundle again is refused with the reason.
	cmd := exec.CommandContext(ctx, x, "policy", "push", "--config", l.Exchange.Config, bundle)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "not newer") {
		t.Fatalf("push again: %v %s", err, b)
	}
	// A source with a mistake is refused with its line, by check and sign.
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte(strings.Replace(l.PolicySource(8), "consumer: MA/MUN/RABAT", "consumer: ma/mun/rabat", 1)), 0o644)
	if b, err := exec.CommandContext(ctx, x, "policy", "check", "--config", l.Exchange.Config, bad).CombinedOutput(); err == nil || !regexp.MustCompile(`bad.yaml:\d+: `).Match(b) {
		t.Fatalf("check of a bad source: %v %s", err, b)
	}
	cmd = exec.CommandContext(ctx, x, "policy", "sign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), bad)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "bad.yaml:") {
		t.Fatalf("bad source: %v %s", err, b)
	}

	// Keys: keygen writes a pair and refuses to overwrite it.
	out = run("policy", "keygen", "--out", filepath.Join(dir, "ops2"))
	if !strings.Contains(out, "key id ed25519:") {
		t.Fatalf("keygen: %s", out)
	}
	if b, err := exec.CommandContext(ctx, x, "policy", "keygen", "--out", filepath.Join(dir, "ops2")).CombinedOutput(); err == nil {
		t.Fatalf("keygen overwrote a key: %s", b)
	}

	// Tokens and the fleet.
	out = run("token", "create", "--config", l.Exchange.Config, "--member", "MA/MUN/RABAT")
	if !strings.Contains(out, "bab enroll --exchange HOST:PORT --token ") {
		t.Fatalf("token create: %s", out)
	}
	// Its last part is what ops compute offline from their public key.
	fp := strings.Fields(run("policy", "fingerprint", "--threshold", "1", filepath.Join(l.Dir, "exchange", "ops.pub")))[0]
	if parts := strings.Split(strings.Fields(out)[0], "."); parts[len(parts)-1] != fp {
		t.Fatalf("the token %s does not end with the ops keys' fingerprint %s", strings.Fields(out)[0], fp)
	}
	if b, err := exec.CommandContext(ctx, x, "token", "create", "--config", l.Exchange.Config, "--member", "rabat").CombinedOutput(); err == nil || !strings.Contains(string(b), "invalid member identifier") {
		t.Fatalf("token for a bad member: %v %s", err, b)
	}
	out = run("fleet", "ls", "--config", l.Exchange.Config)
	for _, want := range []string{"MA/MUN/RABAT:hq", "MA/GOV/ETATCIVIL:dc1", "yes (1)", "v7"} {
		if !strings.Contains(out, want) {
			t.Fatalf("appliances output lacks %q:\n%s", want, out)
		}
	}
	// The appliance's own view.
	b, err := exec.CommandContext(ctx, filepath.Join(binDir, "bab"), "status", "--config", l.Consumer.Config).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "Policy      v7") || !strings.Contains(string(b), " up since ") {
		t.Fatalf("bab status: %v\n%s", err, b)
	}
}
