package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/swtpm"
)

func needTPMs(t *testing.T, l *lab.Lab) {
	t.Helper()
	if l.Consumer.TPM == nil {
		t.Fatal("the lab runs without swtpm; install it with scripts/deps")
	}
}

func TestTPMEnrollmentTrust(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	dir := t.TempDir()
	bab := filepath.Join(binDir, "bab")

	// A TPM from a maker the exchange does not know, without a registered
	// EK hash, is refused, and the refusal names the hash to register.
	other := swtpm.StartT(t)
	cfg := filepath.Join(dir, "kiosk", "bab.yaml")
	_ = os.MkdirAll(filepath.Dir(cfg), 0o700)
	_ = os.WriteFile(cfg, []byte("version: 1\nstate_dir: "+filepath.Join(dir, "kiosk", "state")+"\ntpm:\n  device: "+other.Spec+"\n"), 0o644)
	tok, _ := l.CreateToken(lab.Commune, "")
	out, err := exec.Command(bab, "enroll", "--config", cfg, "--exchange", l.Exchange.Addr, "--token", tok, "--name", "kiosk").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ek_untrusted") {
		t.Fatalf("unknown TPM maker: %v\n%s", err, out)
	}
	hash := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindString(string(out))
	if hash == "" {
		t.Fatalf("the refusal does not name the EK hash:\n%s", out)
	}
	// bab tpm shows the same hash, for the installer to read to ops.
	show, err := exec.Command(bab, "tpm", "--config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(show), "EK hash     "+hash) {
		t.Fatalf("bab tpm: %v\n%s", err, show)
	}
	// The refused attempt did not spend the token; a token bound to the EK
	// hash enrolls that TPM.
	bound := createToken(t, l, "--member", "MA/MUN/RABAT", "--ek-hash", hash)
	out, err = exec.Command(bab, "enroll", "--config", cfg, "--exchange", l.Exchange.Addr, "--token", bound, "--name", "kiosk").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "with its TPM") {
		t.Fatalf("EK-hash token: %v\n%s", err, out)
	}
	t.Logf("enrollment with the TPM: %s", regexp.MustCompile(`in [0-9.]+m?s`).FindString(string(out)))
	// An EK-hash token does not enroll another TPM.
	bound2 := createToken(t, l, "--member", "MA/MUN/RABAT", "--ek-hash", hash)
	outOther, err := enrollFresh(t, l, filepath.Join(dir, "other"), bound2, "other")
	if err == nil || !strings.Contains(outOther, "ek_untrusted") {
		t.Fatalf("EK-hash token used with another TPM: %v\n%s", err, outOther)
	}

	// Golden values set by ops: a boot state that is not the approved one is
	// refused at enrollment, the approved one enrolls. (A fresh software
	// TPM's PCRs 0-15 are all zero.)
	zero, ff := strings.Repeat("00", 32), strings.Repeat("ff", 32)
	strict := createToken(t, l, "--member", "MA/MUN/RABAT", "--pcr", "0="+zero, "--pcr", "7="+ff)
	outGolden, err := enrollFresh(t, l, filepath.Join(dir, "golden"), strict, "golden")
	if err == nil || !strings.Contains(outGolden, "golden values") || !strings.Contains(outGolden, "PCR [7]") {
		t.Fatalf("boot state off the golden values: %v\n%s", err, outGolden)
	}
	approved := createToken(t, l, "--member", "MA/MUN/RABAT", "--pcr", "0="+zero, "--pcr", "7="+zero)
	if outGolden, err = enrollFresh(t, l, filepath.Join(dir, "golden"), approved, "golden"); err != nil {
		t.Fatalf("golden boot state: %v\n%s", err, outGolden)
	}

	// A software key is refused by an exchange that requires a TPM.
	soft := filepath.Join(dir, "soft", "bab.yaml")
	_ = os.MkdirAll(filepath.Dir(soft), 0o700)
	_ = os.WriteFile(soft, []byte("version: 1\nstate_dir: "+filepath.Join(dir, "soft", "state")+"\ntpm:\n  device: none\n"), 0o644)
	tok, _ = l.CreateToken(lab.Commune, "")
	out, err = exec.Command(bab, "enroll", "--config", soft, "--exchange", l.Exchange.Addr, "--token", tok, "--name", "soft").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "attestation_required") {
		t.Fatalf("software key: %v\n%s", err, out)
	}
}

func createToken(t *testing.T, l *lab.Lab, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "bab-exchange"), append([]string{"token", "create", "--config", l.Exchange.Config}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	return strings.Fields(string(out))[0]
}

// TestKeyBlobFromAnotherTPM: an appliance whose TPM no longer holds its key
// (cleared, or the disk moved to another machine) says so plainly, and
// re-enrolling with a token made to replace it recovers it without
// deleting anything.
func TestKeyBlobFromAnotherTPM(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	ctx := context.Background()
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	// Point the consumer at the provider's TPM: its key blob cannot load there.
	raw, _ := os.ReadFile(l.Consumer.Config)
	moved := strings.Replace(string(raw), l.Consumer.TPM.Spec, l.Provider.TPM.Spec, 1)
	if err := os.WriteFile(l.Consumer.Config, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(binDir, "bab"), "serve", "--config", l.Consumer.Config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "re-enroll") || !strings.Contains(string(out), "bab enroll --reenroll") {
		t.Fatalf("serve with a foreign key blob: %v\n%s", err, out)
	}
	// bab status says so plainly while the service cannot start.
	out, err = exec.Command(filepath.Join(binDir, "bab"), "status", "--config", l.Consumer.Config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the TPM no longer holds the key of MA/MUN/RABAT:hq") || !strings.Contains(string(out), "bab enroll --reenroll") {
		t.Fatalf("bab status with a foreign key blob: %v\n%s", err, out)
	}
	// bab doctor points at the key and says what to do.
	out, err = exec.Command(filepath.Join(binDir, "bab"), "doctor", "--config", l.Consumer.Config).CombinedOutput()
	if err == nil || !regexp.MustCompile(`FAIL TPM key .*\n.*fix: .*bab enroll --reenroll`).Match(out) {
		t.Fatalf("bab doctor with a foreign key blob: %v\n%s", err, out)
	}
	// And a TPM that is not there at all.
	noTPM := filepath.Join(t.TempDir(), "bab.yaml")
	_ = os.WriteFile(noTPM, []byte("version: 1\nstate_dir: "+filepath.Join(t.TempDir(), "s")+"\ntpm:\n  device: /dev/no-such-tpm\n"), 0o644)
	out, err = exec.Command(filepath.Join(binDir, "bab"), "doctor", "--config", noTPM).CombinedOutput()
	if err == nil || !regexp.MustCompile(`FAIL TPM .*no TPM found.*\n.*fix: enable the TPM in the firmware`).Match(out) {
		t.Fatalf("bab doctor without a TPM: %v\n%s", err, out)
	}
	// The name is enrolled: ops say that the re-enrolled key takes its place.
	tok := createToken(t, l, "--member", "MA/MUN/RABAT", "--replace", "hq")
	cmd := exec.Command(filepath.Join(binDir, "bab"), "enroll", "--reenroll", "--config", l.Consumer.Config, "--exchange", l.Exchange.Addr, "--token", tok, "--name", "hq")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reenroll: %v\n%s", err, out)
	}
	// A new key: ops approve it for the name.
	if err := l.Consumer.LoadKey(); err != nil {
		t.Fatal(err)
	}
	approve(t, l, l.Consumer)
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// Both appliances hold the policy with the new key: the provider
	// checks it too, end to end.
	if err := l.AwaitPolicy(ctx, l.PolicyVersion()); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, l, "GET", "/citizens/5", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after re-enrollment: %d %s", resp.StatusCode, body)
	}
}

// TestTPMHandshakes measures what the TPM-resident key costs a tunnel:
// full TLS 1.3 handshakes to the exchange, each signed inside the TPM.
func TestTPMHandshakes(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	tc := holdIdentity(t, l.Consumer).tls
	const n = 20
	start := time.Now()
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := quic.DialAddr(ctx, l.Exchange.Addr, tc, &quic.Config{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		// The exchange verified the TPM-signed handshake; the connection is
		// usable for the control stream.
		if _, err := conn.OpenStreamSync(context.Background()); err != nil {
			t.Fatal(err)
		}
		conn.CloseWithError(0, "")
	}
	per := time.Since(start) / n
	t.Logf("%d tunnel handshakes with the TPM key: %s each, %.0f per second", n, per.Round(10*time.Microsecond), float64(time.Second)/float64(per))
}
