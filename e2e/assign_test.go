package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// TestRolloutVersionIsTheExchangesChoice: during a staged rollout, the
// exchange enforces for each appliance the version it assigned it (the
// staged one inside the stage, the current one outside), whatever the
// appliance says it applied. A consumer that claims the staged bundle to
// get what only that bundle allows, or claims the old bundle to keep what
// the staged one takes away, is refused at the exchange, and is sent the
// bundle it should hold.
func TestRolloutVersionIsTheExchangesChoice(t *testing.T) {
	l := newLab(t, lab.Options{})
	now := time.Now().UTC()

	// v2 gives the commune DELETE and is staged to the civil registry's
	// appliance only: the commune's appliance is outside the stage.
	v2 := l.DefaultPolicy(2, now)
	v2.Rules[0].Methods = []string{"GET", "POST", "DELETE"}
	stageBundle(t, l, v2, "appliance:"+lab.RegistryDC.String())
	awaitVersion(t, l.Provider, 2)
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	h := holdIdentity(t, l.Consumer)
	before := l.Backend.Requests.Load()
	rt := dialClaiming(t, l, h, 2)
	ft, payload := rt.roundTrip(t, wire.RequestHead{ID: "claim-staged", Service: lab.CivilStatus.String(), Method: "DELETE", Path: "/citizens/4", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange")
	if got := l.Backend.Requests.Load() - before; got != 0 {
		t.Fatalf("the staged-only call reached the backend %d times", got)
	}
	rt.awaitPush(t, 1)

	// Rolled back by v3 (the lab's content: GET and POST); then v4, which
	// takes POST away, is staged to the commune's appliance. Claiming v3
	// does not keep POST.
	postBundle(t, l, l.DefaultPolicy(3, now), "/v1/rollout/abort")
	awaitVersion(t, l.Provider, 3)
	v4 := l.DefaultPolicy(4, now)
	v4.Rules[0].Methods = []string{"GET"}
	stageBundle(t, l, v4, "appliance:"+lab.CommuneHQ.String())
	rt = dialClaiming(t, l, h, 3)
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "claim-old", Service: lab.CivilStatus.String(), Method: "POST", Path: "/echo", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange")
	if got := l.Backend.Requests.Load() - before; got != 0 {
		t.Fatalf("the call the staged bundle takes away reached the backend %d times", got)
	}
	rt.awaitPush(t, 4)
	// What the stage allows still goes through.
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "get", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/4", Timeout: 5 * time.Second})
	if ft != wire.FrameResponseHead {
		t.Fatalf("GET under the assigned bundle: %s %s", ft, payload)
	}
}

// stageBundle signs b and pushes it to the appliances in stage only.
func stageBundle(t *testing.T, l *lab.Lab, b *policy.Bundle, stage string) {
	t.Helper()
	postBundle(t, l, b, "/v1/policy?stage="+url.QueryEscape(stage))
}

// postBundle signs b and posts it to path on the exchange's admin API.
func postBundle(t *testing.T, l *lab.Lab, b *policy.Bundle, path string) {
	t.Helper()
	s, err := policy.Sign(b, l.OpsKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Exchange.Call("POST", path, raw, nil); err != nil {
		t.Fatal(err)
	}
}
