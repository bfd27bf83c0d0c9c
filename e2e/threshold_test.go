package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
)

// TestThresholdSigning: with two ops keys of which both must sign, one
// operator alone cannot publish, at the exchange nor (should the exchange
// be taken) at an appliance; with the second operator's co-signature the
// bundle goes out.
func TestThresholdSigning(t *testing.T) {
	l := newLab(t, lab.Options{OpsKeys: 2, Threshold: 2})
	ctx := context.Background()
	x := filepath.Join(binDir, "bab-exchange")
	dir := t.TempDir()
	src := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(src, []byte(l.PolicySource(5)), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "policy.json")
	run := func(args ...string) (string, error) {
		out, err := exec.Command(x, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("policy", "sign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), "--out", bundle, src); err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	if out, err := run("policy", "push", "--config", l.Exchange.Config, bundle); err == nil || !strings.Contains(out, "1 distinct trusted signatures, 2 required") {
		t.Fatalf("push with one of two signatures: %v\n%s", err, out)
	}
	// The same key signing twice is still one signature.
	if out, err := run("policy", "cosign", "--key", filepath.Join(l.Dir, "exchange", "ops.key"), bundle); err != nil {
		t.Fatalf("cosign with the same key: %v\n%s", err, out)
	}
	if out, err := run("policy", "push", "--config", l.Exchange.Config, bundle); err == nil {
		t.Fatalf("push after the same key signed twice: %s", out)
	}
	if out, err := run("policy", "cosign", "--key", filepath.Join(l.Dir, "exchange", "ops-2.key"), bundle); err != nil || !strings.Contains(out, "2 signature(s)") {
		t.Fatalf("cosign: %v\n%s", err, out)
	}
	if out, err := run("policy", "push", "--config", l.Exchange.Config, bundle); err != nil {
		t.Fatalf("push with both signatures: %v\n%s", err, out)
	}
	if err := l.AwaitPolicy(ctx, 5); err != nil {
		t.Fatal(err)
	}

	// The appliances pinned the threshold at enrollment: a bundle with one
	// signature is refused even when the exchange itself sends it.
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.CommuneHQ.String())
	one, err := policySign(l.DefaultPolicy(6, time.Now().UTC()), l.OpsKey)
	if err != nil {
		t.Fatal(err)
	}
	if ack := s.push(t, one); ack.Error == "" || !strings.Contains(ack.Error, "2 required") || ack.Applied != 5 {
		t.Fatalf("one signature pushed to the appliance: %+v", ack)
	}
	sp, err := policy.Sign(l.DefaultPolicy(7, time.Now().UTC()), l.OpsKeys...)
	if err != nil {
		t.Fatal(err)
	}
	both, _ := sp.Marshal()
	if ack := s.push(t, both); ack.Error != "" || ack.Applied != 7 {
		t.Fatalf("both signatures pushed to the appliance: %+v", ack)
	}
}
