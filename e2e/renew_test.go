package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestCertificatesRenewOverTheTunnel: with certificates that live seconds,
// appliances renew theirs over the tunnel before they expire (with the TPM
// key, which never changes), and reconnect with the new one after the old
// has expired.
func TestCertificatesRenewOverTheTunnel(t *testing.T) {
	const life = 6 * time.Second
	l := newLab(t, lab.Options{CertLifetime: life})
	ctx := context.Background()
	st, err := l.Consumer.Status()
	if err != nil {
		t.Fatal(err)
	}
	first := st.Certificate.NotAfter
	waitFor(t, 3*life, func() error {
		st, err := l.Consumer.Status()
		if err != nil {
			return err
		}
		if !st.Certificate.NotAfter.After(first) {
			return errors.New("certificate not renewed yet")
		}
		return nil
	})
	// The exchange is down for longer than the appliance's certificate
	// has left: the appliance comes back on its expired certificate (the
	// grace period) and renews at once.
	l.Exchange.Kill()
	st, err = l.Consumer.Status()
	if err != nil {
		t.Fatal(err)
	}
	expired := st.Certificate.NotAfter
	time.Sleep(time.Until(expired.Add(time.Second)))
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/3", nil, nil); resp.StatusCode != 200 {
			return errors.New("request after reconnecting: " + resp.Status)
		}
		st, err := l.Consumer.Status()
		if err != nil {
			return err
		}
		if !st.Certificate.NotAfter.After(time.Now()) {
			return errors.New("certificate not renewed after reconnecting")
		}
		return nil
	})
	if !strings.Contains(l.Exchange.Log(), "reconnects with an expired certificate") {
		t.Fatal("the appliance never came back on an expired certificate: the grace path was not exercised")
	}
}
