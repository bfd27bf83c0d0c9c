package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tunnel"
	astore "github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/wire"
)

// These tests play an appliance that was taken out (revoked, or replaced
// by a new machine under its name) and comes back with the state it kept.

// storedCert is the certificate in a's state file (a must be stopped).
func storedCert(t *testing.T, a *lab.Appliance) *x509.Certificate {
	t.Helper()
	st, err := astore.Open(a.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := st.Identity()
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(id.Chain[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serialOf and keyHashOf name a certificate and its key as ops see them.
func serialOf(c *x509.Certificate) string { return hex.EncodeToString(c.SerialNumber.Bytes()) }

func keyHashOf(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// exchangeCmd runs the ops command line against the lab's exchange.
func exchangeCmd(l *lab.Lab, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(args[:2:2], append([]string{"--config", l.Exchange.Config}, args[2:]...)...)
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "bab-exchange"), args...).CombinedOutput()
	return string(out), err
}

// approve is ops approving the key of a, enrolled in place of another
// appliance: the lab signs and pushes a policy that binds its name to it.
func approve(t *testing.T, l *lab.Lab, a *lab.Appliance) {
	t.Helper()
	l.Approve(a)
	if _, err := l.Push(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// getVia sends a request for the civil registry through a's gateway.
func getVia(t *testing.T, a *lab.Appliance, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", a.GatewayURL+"/"+lab.CivilStatus.String()+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.Token)
	resp, _ := send(t, req)
	return resp.StatusCode
}

// neverServes watches a for d: its tunnel must never come up and no
// request through its gateway may succeed.
func neverServes(t *testing.T, a *lab.Appliance, d time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if code := getVia(t, a, "/citizens/1"); code == http.StatusOK {
			t.Fatalf("the old identity of %s got a 200 through the exchange %s after it started", a.ID, time.Since(start).Round(time.Millisecond))
		}
		if st, err := a.Status(); err == nil && len(st.Tunnels) > 0 && st.Tunnels[0].Connected {
			t.Errorf("the exchange let %s's old identity connect: %+v", a.ID, st.Tunnels[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRevokedCertificateAfterReEnrollment: ops revoke the commune's
// appliance and enroll a new machine under the same name. The old machine,
// started again with its old state, is refused for good (its key and
// certificate are on the deny list), and the new one carries the requests.
// Software keys: with a TPM the old machine would also fail attestation
// with its old attestation key, which hides the hole behind a quarantine
// (TestTokenForEnrolledNameNeedsReplace covers the TPM case).
func TestRevokedCertificateAfterReEnrollment(t *testing.T) {
	l := newLab(t, lab.Options{SoftwareKeys: true})
	ctx := context.Background()
	old := l.Consumer
	hq := old.ID.String()
	if out, err := exchangeCmd(l, "appliance", "revoke", hq); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}
	oldCert := storedCert(t, old)

	tok := createToken(t, l, "--member", old.ID.Member.String(), "--replace", old.ID.Name)
	fresh, err := l.EnrollInPlaceOf(ctx, old, "new", tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Stop() })
	approve(t, l, fresh)
	if err := fresh.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if code := getVia(t, fresh, "/citizens/1"); code != http.StatusOK {
		t.Fatalf("the new appliance: %d", code)
	}

	// The old machine comes back with its old state.
	if err := l.StartAppliance(ctx, old); err != nil {
		t.Fatal(err)
	}
	neverServes(t, old, 6*time.Second)
	if code := getVia(t, fresh, "/citizens/2"); code != http.StatusOK {
		t.Errorf("the new appliance beside the refused old one: %d", code)
	}
	out, err := exchangeCmd(l, "fleet", "show", hq)
	if err != nil {
		t.Fatalf("fleet show: %v\n%s", err, out)
	}
	for _, want := range []string{serialOf(oldCert), keyHashOf(oldCert)} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet show does not list %s on the deny list:\n%s", want, out)
		}
	}
	t.Logf("fleet show after the re-enrollment:\n%s", out)
}

// TestTokenForEnrolledNameNeedsReplace: a token for a name that is
// enrolled is refused unless ops say --replace; with --replace, the
// replaced appliance's key stays refused, and its boot-state baseline and
// quarantine carry over to the new enrollment instead of being cleared.
func TestTokenForEnrolledNameNeedsReplace(t *testing.T) {
	l := newLab(t, lab.Options{AttestEvery: time.Second})
	needTPMs(t, l)
	ctx := context.Background()
	old := l.Consumer
	hq := old.ID.String()
	before := waitAttestation(t, l, hq, "ok")

	out, err := exchangeCmd(l, "token", "create", "--member", old.ID.Member.String(), "--name", old.ID.Name)
	if err == nil || !strings.Contains(out, "--replace") {
		t.Errorf("token for an enrolled name without --replace: %v\n%s", err, out)
	}

	// Secure Boot is turned off: the appliance is quarantined. Then
	// somebody enrolls the same machine again under its name, hoping that
	// the boot state it has now becomes the baseline.
	if err := old.TPM.ExtendPCR(7, []byte("secure boot disabled")); err != nil {
		t.Fatal(err)
	}
	waitAttestation(t, l, hq, "quarantined")
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}
	oldCert := storedCert(t, old)
	tok, err := l.CreateReplaceToken(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := enrollFresh(t, l, filepath.Join(t.TempDir(), "again"), tok, old.ID.Name); err != nil {
		t.Fatalf("enrollment with a --replace token: %v\n%s", err, out)
	}
	// The replaced appliance's state: its key and certificate are denied;
	// the name keeps its baseline, and the boot state at the new
	// enrollment, which differs from it, keeps the name quarantined.
	d := attestation(t, l, hq)
	if d.Attestation != "quarantined" || fmt.Sprint(d.Baseline) != fmt.Sprint(before.Baseline) || fmt.Sprint(d.Differ) != "[7]" {
		t.Errorf("after the replacement: attestation %q, baseline kept %v, differ %v; want quarantined, the old baseline, [7]",
			d.Attestation, fmt.Sprint(d.Baseline) == fmt.Sprint(before.Baseline), d.Differ)
	}
	if err := l.StartAppliance(ctx, old); err != nil {
		t.Fatal(err)
	}
	neverServes(t, old, 3*time.Second)
	out, _ = exchangeCmd(l, "fleet", "show", hq)
	if !strings.Contains(out, serialOf(oldCert)) || !strings.Contains(out, keyHashOf(oldCert)) {
		t.Errorf("fleet show does not deny the replaced key and certificate:\n%s", out)
	}

	// A token that names no appliance cannot take an enrolled name either.
	unbound, _ := l.CreateToken(lab.Commune, "")
	out, err = enrollFresh(t, l, filepath.Join(t.TempDir(), "third"), unbound, old.ID.Name)
	if err == nil || !strings.Contains(out, "--replace") {
		t.Errorf("unbound token for an enrolled name: %v\n%s", err, out)
	}
	// And --replace needs something to replace.
	if out, err := exchangeCmd(l, "token", "create", "--member", old.ID.Member.String(), "--replace", "nosuch"); err == nil || !strings.Contains(out, "no appliance") {
		t.Errorf("--replace of a name never enrolled: %v\n%s", err, out)
	}
}

// TestRenewForUnregisteredKeyRefused: the replaced appliance's identity
// (its TPM key and its CA-issued certificate, still valid) asks the
// exchange to renew its certificate over a real tunnel connection: it
// gets no certificate, and the registry keeps the new appliance's.
func TestRenewForUnregisteredKeyRefused(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	old := l.Consumer
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}
	held := holdIdentity(t, old)
	tok, err := l.CreateReplaceToken(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := l.EnrollInPlaceOf(ctx, old, "new", tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Stop() })
	approve(t, l, fresh)
	if err := fresh.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	before := attestation(t, l, old.ID.String())

	rn, err := renewAs(held, l.Exchange.Addr, false)
	if err == nil && rn.Error == "" {
		t.Errorf("the exchange renewed the certificate of a key that is not registered (%d certificate(s))", len(rn.Chain))
	} else {
		t.Logf("renewal with the replaced key: %v %s", err, rn.Error)
	}
	after := attestation(t, l, old.ID.String())
	if after.CertSerial != before.CertSerial || after.KeyHash != before.KeyHash {
		t.Errorf("the registry's certificate changed from %s (key %s) to %s (key %s)", before.CertSerial, before.KeyHash, after.CertSerial, after.KeyHash)
	}
	if code := getVia(t, fresh, "/citizens/1"); code != http.StatusOK {
		t.Errorf("the new appliance after the attempt: %d", code)
	}

	// The registered appliance itself may not renew for another key.
	if err := fresh.Stop(); err != nil {
		t.Fatal(err)
	}
	own := holdIdentity(t, fresh)
	rn, err = renewAs(own, l.Exchange.Addr, true)
	if err != nil || rn.Error == "" || len(rn.Chain) > 0 {
		t.Errorf("renewal for another key than the registered one: %v, %+v", err, rn)
	}
}

// renewAs opens a tunnel with a held identity and asks for a certificate
// renewal: for the identity's own key, or for a fresh key when otherKey.
// It returns the exchange's answer, or why there was none.
func renewAs(h *heldIdentity, addr string, otherKey bool) (wire.Renewed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, h.tls, tunnel.DefaultQUICConfig())
	if err != nil {
		return wire.Renewed{}, fmt.Errorf("dial: %w", err)
	}
	defer conn.CloseWithError(0, "")
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return wire.Renewed{}, err
	}
	_ = ctrl.SetDeadline(time.Now().Add(15 * time.Second))
	if err := wire.WriteJSON(ctrl, wire.FrameHello, wire.Hello{Appliance: h.id.Appliance, Software: "test"}); err != nil {
		return wire.Renewed{}, err
	}
	r := wire.NewReader(ctrl)
	if ft, _, err := wire.ReadFrame(r, 0); err != nil || ft != wire.FrameWelcome {
		return wire.Renewed{}, fmt.Errorf("%w: %v %v", errNoWelcome, ft, err)
	}
	signer := h.tls.Certificates[0].PrivateKey.(crypto.Signer)
	if otherKey {
		if signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return wire.Renewed{}, err
		}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: h.id.Appliance}}, signer)
	if err != nil {
		return wire.Renewed{}, err
	}
	if err := wire.WriteJSON(ctrl, wire.FrameRenew, wire.Renew{CSR: csr}); err != nil {
		return wire.Renewed{}, err
	}
	for {
		ft, payload, err := wire.ReadFrame(r, 0)
		if err != nil {
			return wire.Renewed{}, err
		}
		if ft == wire.FrameRenewed {
			var rn wire.Renewed
			return rn, wire.DecodeJSON(ft, payload, &rn)
		}
	}
}

var errNoWelcome = errors.New("the exchange sent no welcome")
