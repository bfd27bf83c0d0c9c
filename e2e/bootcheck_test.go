package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// TestNoTrafficBeforeTheFirstQuote plays TPM appliances that reconnect and
// withhold the answer to the exchange's boot-state check, as one whose
// boot state changed would: before its first quote on the new connection
// is verified, the exchange carries no request from it and routes none to
// it, although the registry's last verdict was good.
func TestNoTrafficBeforeTheFirstQuote(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	before := l.Backend.Requests.Load()

	// As a consumer: refused, with a hint to retry.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rogue := dialSilent(t, l, l.Consumer) // answers no boot-state check
	head := wire.RequestHead{ID: "r1", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/5",
		ConsumerSystem: "x", Timeout: 5 * time.Second}
	ft, payload := rogue.roundTrip(t, head)
	wantWireError(t, ft, payload, string(problem.AttestationPending), "exchange")
	rogue.conn.CloseWithError(0, "")

	// As a provider: the exchange does not route to it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.AwaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Provider.Stop(); err != nil {
		t.Fatal(err)
	}
	rogueProvider := dialSilent(t, l, l.Provider)
	got := make(chan error, 1)
	go func() {
		actx, acancel := context.WithTimeout(ctx, 8*time.Second)
		defer acancel()
		s, err := rogueProvider.conn.AcceptStream(actx)
		if err == nil {
			s.CancelRead(wire.CodeCanceled)
		}
		got <- err
	}()
	resp, body := do(t, l, "GET", "/citizens/5", nil, nil)
	wantProblem(t, resp, body, problem.ProviderOffline, "exchange")
	if err := <-got; err == nil {
		t.Fatal("the exchange opened a request stream to a provider whose boot state it has not verified on this connection")
	}
	if n := l.Backend.Requests.Load() - before; n != 0 {
		t.Fatalf("the backend was reached %d times", n)
	}
}
