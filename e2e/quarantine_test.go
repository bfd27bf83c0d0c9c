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
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

func attestation(t *testing.T, l *lab.Lab, id string) exchange.ApplianceDetail {
	t.Helper()
	var d exchange.ApplianceDetail
	if err := l.Exchange.Call("GET", "/v1/appliances/"+id, nil, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func waitAttestation(t *testing.T, l *lab.Lab, id, want string) exchange.ApplianceDetail {
	t.Helper()
	var d exchange.ApplianceDetail
	waitFor(t, 20*time.Second, func() error {
		d = attestation(t, l, id)
		if d.Attestation != want {
			return errors.New(id + " attestation is " + d.Attestation + ", waiting for " + want)
		}
		return nil
	})
	return d
}

func TestQuarantineAndRebaseline(t *testing.T) {
	l := newLab(t, lab.Options{AttestEvery: time.Second})
	needTPMs(t, l)
	hq, dc1 := lab.CommuneHQ.String(), lab.RegistryDC.String()
	waitAttestation(t, l, hq, "ok")
	d0 := waitAttestation(t, l, dc1, "ok")
	t.Logf("attestation round trip (challenge to verdict, over the tunnel): %s", d0.AttestRTT)
	pids := []int{l.Consumer.PID(), l.Provider.PID(), l.Exchange.PID()}

	// Secure Boot is turned off on the commune's server (PCR 7 changes):
	// within an interval the appliance is quarantined and says so.
	changed := time.Now()
	if err := l.Consumer.TPM.ExtendPCR(7, []byte("secure boot disabled")); err != nil {
		t.Fatal(err)
	}
	d := waitAttestation(t, l, hq, "quarantined")
	t.Logf("quarantined %s after the PCR changed", time.Since(changed).Round(time.Millisecond))
	if !strings.Contains(d.QuarantineReason, "PCR [7]") || len(d.Differ) != 1 || d.Differ[0] != 7 {
		t.Fatalf("quarantine reason %q, differ %v", d.QuarantineReason, d.Differ)
	}
	waitFor(t, 5*time.Second, func() error {
		resp, _ := do(t, l, "GET", "/citizens/1", nil, nil)
		if resp.StatusCode != 503 {
			return errors.New("gateway still serving")
		}
		return nil
	})
	resp, body := do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.ApplianceQuarantined, "consumer")
	st, _ := l.Consumer.Status()
	if st == nil || !strings.Contains(st.Quarantine, "PCR [7]") {
		t.Fatalf("status does not show the quarantine: %+v", st)
	}
	out, err := exec.Command(filepath.Join(binDir, "bab-exchange"), "fleet", "show", "--config", l.Exchange.Config, hq).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "QUARANTINED") || !strings.Contains(string(out), "<- differs") {
		t.Fatalf("fleet show: %v\n%s", err, out)
	}

	// Ops accept the new state: requests work again, nothing restarted.
	out, err = exec.Command(filepath.Join(binDir, "bab-exchange"), "appliance", "rebaseline", "--config", l.Exchange.Config, hq).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Accepted") {
		t.Fatalf("rebaseline: %v\n%s", err, out)
	}
	waitAttestation(t, l, hq, "ok")
	waitFor(t, 5*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
			return errors.New("still refused after the rebaseline: " + resp.Status)
		}
		return nil
	})

	// A quarantined provider is not routed to.
	if err := l.Provider.TPM.ExtendPCR(0, []byte("firmware update")); err != nil {
		t.Fatal(err)
	}
	waitAttestation(t, l, dc1, "quarantined")
	resp, body = do(t, l, "GET", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.ProviderOffline, "exchange")
	if _, err := exec.Command(filepath.Join(binDir, "bab-exchange"), "appliance", "rebaseline", "--config", l.Exchange.Config, dc1).CombinedOutput(); err != nil {
		t.Fatal(err)
	}
	waitAttestation(t, l, dc1, "ok")
	waitFor(t, 5*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
			return errors.New("provider still not routed: " + resp.Status)
		}
		return nil
	})
	if now := []int{l.Consumer.PID(), l.Provider.PID(), l.Exchange.PID()}; now[0] != pids[0] || now[1] != pids[1] || now[2] != pids[2] {
		t.Fatal("a process restarted: quarantine must be a state, not a crash")
	}
}

// The policy sets how often appliances are checked: with the exchange's
// own interval at its 10-minute default, a policy interval of 10 s makes a
// changed PCR show within seconds.
func TestAttestIntervalFromPolicy(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	ctx := context.Background()
	v, err := l.Push(ctx, func(b *policy.Bundle) { b.AttestIntervalSeconds = 10 })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	hq := lab.CommuneHQ.String()
	waitAttestation(t, l, hq, "ok")
	if err := l.Consumer.TPM.ExtendPCR(4, []byte("new bootloader")); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	waitFor(t, 15*time.Second, func() error {
		if d := attestation(t, l, hq); d.Attestation != "quarantined" {
			return errors.New("not quarantined yet: " + d.Attestation)
		}
		return nil
	})
	t.Logf("quarantined %s after the PCR changed, with a 10 s interval from the policy", time.Since(changed).Round(time.Millisecond))
}

func TestRebootReattests(t *testing.T) {
	l := newLab(t, lab.Options{AttestEvery: time.Second})
	needTPMs(t, l)
	ctx := context.Background()
	hq := lab.CommuneHQ.String()
	before := waitAttestation(t, l, hq, "ok")
	// The commune's server reboots: the TPM resets, its PCRs start over
	// and come back to the same values, and the appliance starts again.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.TPM.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		d := attestation(t, l, hq)
		if d.Attestation != "ok" || !d.LastAttested.After(before.LastAttested) || !d.Connected {
			return errors.New("not re-attested yet: " + d.Attestation)
		}
		return nil
	})
	if resp, body := do(t, l, "GET", "/citizens/2", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after the reboot: %d %s", resp.StatusCode, body)
	}
}
