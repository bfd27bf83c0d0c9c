package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// TestReplacementNeedsOpsApproval: whoever gets a replace token (ops made
// it, or it leaked) enrolls a new machine under an approved name. The
// signed policy binds the name to the key ops approved, the replaced
// machine's: the new machine may not call, through its gateway or by
// talking to the exchange directly, and its status says why. Once ops
// approve its key (fleet approve, sign, push) it calls like the old one.
func TestReplacementNeedsOpsApproval(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	old := l.Consumer
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}
	tok, err := l.CreateReplaceToken(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := l.EnrollInPlaceOf(ctx, old, "new", tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Stop() })
	if fresh.Key == old.Key || fresh.Key == "" {
		t.Fatalf("the new machine's key %q is not a new one", fresh.Key)
	}
	waitFor(t, 30*time.Second, func() error {
		st, err := fresh.Status()
		if err != nil || st.Policy.Version == 0 || len(st.Tunnels) == 0 || !st.Tunnels[0].Connected {
			return errString("the new machine has no policy or no tunnel yet")
		}
		if st.Policy.OtherKey != old.Key || st.Certificate.KeyHash != fresh.Key {
			t.Fatalf("status: the policy's key %q (want the old machine's %s), its own %q (want %s)", st.Policy.OtherKey, old.Key, st.Certificate.KeyHash, fresh.Key)
		}
		return nil
	})
	out, _ := babCmd(t, "status", "--config", fresh.Config)
	if !strings.Contains(out, "ANOTHER KEY ("+old.Key+")") || !strings.Contains(out, "approve its key "+fresh.Key) {
		t.Errorf("bab status does not say the policy lists another key:\n%s", out)
	}
	before := l.Backend.Requests.Load()
	resp, body := annexGet(t, fresh, "/citizens/1")
	wantProblem(t, resp, body, problem.ApplianceKeyMismatch, "consumer")

	fleet, err := exchangeCmd(l, "fleet", "ls")
	if err != nil || !strings.Contains(fleet, "KEY NOT IN POLICY") || !strings.Contains(fleet, "fleet approve") {
		t.Errorf("fleet ls does not show the key the policy does not list: %v\n%s", err, fleet)
	}
	show, err := exchangeCmd(l, "fleet", "show", old.ID.String())
	if err != nil || !strings.Contains(show, "Key           "+fresh.Key) || !strings.Contains(show, "Policy key    "+old.Key+": ANOTHER KEY") {
		t.Errorf("fleet show does not show both keys: %v\n%s", err, show)
	}

	// Skipping its own gateway's check does not help: the exchange
	// refuses, and says why.
	if err := fresh.Stop(); err != nil {
		t.Fatal(err)
	}
	rogue := dialAs(t, l, fresh)
	ft, payload := rogue.roundTrip(t, wire.RequestHead{ID: "k1", Service: lab.CivilStatus.String(), Method: "GET",
		Path: "/citizens/5", ConsumerSystem: "x", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, string(problem.ApplianceKeyMismatch), "exchange")
	if we, _ := wire.DecodeError(payload); we == nil || !strings.Contains(we.Detail, old.Key) || !strings.Contains(we.Detail, "fleet approve") {
		t.Errorf("the exchange's refusal does not name the listed key and what to do: %+v", we)
	}
	rogue.conn.CloseWithError(0, "")
	if n := l.Backend.Requests.Load() - before; n != 0 {
		t.Fatalf("the backend was reached %d times by a machine whose key the policy does not list", n)
	}

	// Ops approve the new machine's key: one command edits the source.
	src := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(src, []byte(l.PolicySource(l.PolicyVersion())), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(t.TempDir(), "policy.json")
	out, err = exchangeCmd(l, "fleet", "approve", "--source", src)
	if err != nil || !strings.Contains(out, "Bound "+old.ID.String()+" to its registered key "+fresh.Key) {
		t.Fatalf("fleet approve: %v\n%s", err, out)
	}
	if out, err = exchangeCmd(l, "policy", "check", src); err != nil || !strings.Contains(out, "key "+old.Key+" → "+fresh.Key) {
		t.Fatalf("policy check after the approval: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"policy", "sign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), "--out", signed, src},
		{"policy", "push", "--config", l.Exchange.Config, signed},
	} {
		if out, err := runExchange(args...); err != nil {
			t.Fatalf("bab-exchange %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := l.StartAppliance(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := fresh.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if code := getVia(t, fresh, "/citizens/1"); code != http.StatusOK {
		t.Fatalf("after ops approved its key: %d", code)
	}
}

// TestPolicyWithAnotherKeyRefused: a policy that binds the provider's name
// to another key than its own (a mistake, or a replaced machine not yet
// approved) routes nothing to it: the consumer is told why, the push
// warns ops, and the provider's status says it. The next policy with its
// key brings it back.
func TestPolicyWithAnotherKeyRefused(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wrong := madeUpKey(lab.RegistryDC)
	b := l.DefaultPolicy(l.PolicyVersion()+1, time.Now().UTC())
	for i := range b.Appliances {
		if b.Appliances[i].ID == lab.RegistryDC {
			b.Appliances[i].Key = wrong
		}
	}
	raw, err := policySign(b, l.OpsKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exchangeCmd(l, "policy", "push", file)
	if err != nil || !strings.Contains(out, "WARNING") || !strings.Contains(out, lab.RegistryDC.String()) {
		t.Fatalf("policy push of a policy with another key: %v\n%s", err, out)
	}
	if err := l.AwaitPolicy(ctx, b.Version); err != nil {
		t.Fatal(err)
	}
	before := l.Backend.Requests.Load()
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	p := wantProblem(t, resp, body, problem.ApplianceKeyMismatch, "exchange")
	if !strings.Contains(p.Detail, lab.RegistryDC.String()) {
		t.Errorf("the refusal does not name the provider's appliance: %s", p.Detail)
	}
	if n := l.Backend.Requests.Load() - before; n != 0 {
		t.Fatalf("the backend was reached %d times through an appliance whose key the policy does not list", n)
	}
	if out, _ := babCmd(t, "status", "--config", l.Provider.Config); !strings.Contains(out, "ANOTHER KEY ("+wrong+")") {
		t.Errorf("the provider's bab status does not say the policy lists another key:\n%s", out)
	}
	if err := pushBundle(l, l.DefaultPolicy(b.Version+1, time.Now().UTC()), l.OpsKey); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, b.Version+1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != http.StatusOK {
			return errString("request under the policy with the provider's key: " + resp.Status)
		}
		return nil
	})
}

// TestPolicySignFillsKeys: ops do not type hashes. policy check fills the
// keys the source leaves out from the running exchange's registry and
// says what it filled and what is not enrolled; policy sign, offline,
// fills them from what fleet ls -o json printed and refuses to sign an
// appliance it cannot fill.
func TestPolicySignFillsKeys(t *testing.T) {
	l := newLab(t, lab.Options{})
	dir := t.TempDir()
	// A source that lists its appliances without keys, and one that has
	// not enrolled.
	src := filepath.Join(dir, "policy.yaml")
	text := lab.PolicySource(l.PolicyVersion()+1, nil)
	text = strings.Replace(text, "  - "+lab.RegistryDC.String()+"\n", "  - "+lab.RegistryDC.String()+"\n  - MA/MUN/RABAT:kiosk\n", 1)
	if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exchangeCmd(l, "policy", "check", src)
	for _, want := range []string{
		lab.CommuneHQ.String(), "filled: " + l.Consumer.Key, "filled: " + l.Provider.Key,
		"MA/MUN/RABAT:kiosk", "NOT ENROLLED", "cannot be signed",
	} {
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("policy check of a source with an appliance that has not enrolled lacks %q (%v):\n%s", want, err, out)
		}
	}
	registry := filepath.Join(dir, "fleet.json")
	fleet, err := exchangeCmd(l, "fleet", "ls", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(registry, []byte(fleet), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "policy.json")
	key := filepath.Join(l.Dir, "exchange", "ops.key")
	out, err = runExchange("policy", "sign", "--key", key, "--registry", registry, "--out", signed, src)
	if err == nil || !strings.Contains(out, "MA/MUN/RABAT:kiosk") || !strings.Contains(out, "cannot be signed") {
		t.Fatalf("policy sign of an appliance without a key: %v\n%s", err, out)
	}
	if _, err := os.Stat(signed); err == nil {
		t.Fatal("policy sign wrote a bundle although it refused")
	}
	out, err = runExchange("policy", "sign", "--key", key, "--out", signed, src)
	if err == nil || !strings.Contains(out, "--registry") {
		t.Fatalf("policy sign without --registry of a source without keys: %v\n%s", err, out)
	}
	// Without the appliance that has not enrolled, it signs, each name
	// bound to its registered key.
	if err := os.WriteFile(src, []byte(lab.PolicySource(l.PolicyVersion()+1, nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runExchange("policy", "sign", "--key", key, "--registry", registry, "--out", signed, src)
	if err != nil || !strings.Contains(out, "filled: "+l.Consumer.Key) || !strings.Contains(out, "Signed policy v") {
		t.Fatalf("policy sign --registry: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	s, err := policy.ParseSigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Compile(got)
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if k, ok := p.ApplianceKey(a.ID); !ok || k != a.Key {
			t.Errorf("the signed policy binds %s to %q, want its key %s", a.ID, k, a.Key)
		}
	}
	if out, err := exchangeCmd(l, "policy", "push", signed); err != nil || strings.Contains(out, "WARNING") {
		t.Fatalf("push: %v\n%s", err, out)
	}
	if err := l.AwaitPolicy(context.Background(), got.Version); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("under the signed policy: %d %s", resp.StatusCode, body)
	}
}

// runExchange runs bab-exchange with args as given, without a config (the
// offline commands need none).
func runExchange(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "bab-exchange"), args...).CombinedOutput()
	return string(out), err
}
