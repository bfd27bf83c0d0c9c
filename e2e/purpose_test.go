package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

func TestPurposeBoundAccess(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, func(b *policy.Bundle) { b.Rules[0].Purpose = "birth-certificate" })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, l, "GET", "/citizens/6", nil, nil)
	p := wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	if !strings.Contains(p.Detail, "Bab-Purpose: birth-certificate") {
		t.Fatalf("the refusal does not say how to declare the purpose: %s", p.Detail)
	}
	resp, body = do(t, l, "GET", "/citizens/6", nil, map[string]string{"Bab-Purpose": "marketing"})
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	resp, body = do(t, l, "GET", "/citizens/6", nil, map[string]string{"Bab-Purpose": "birth-certificate"})
	var rec map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil || rec["purpose"] != "birth-certificate" {
		t.Fatalf("declared purpose: %d %s", resp.StatusCode, body)
	}
	// The trace keeps it.
	waitFor(t, 5*time.Second, func() error {
		var tr []store.TraceEntry
		if err := getJSON(l, "/v1/trace?limit=5", &tr); err != nil {
			return err
		}
		for _, e := range tr {
			if e.Purpose == "birth-certificate" && e.Outcome == "ok" {
				return nil
			}
		}
		return errString("no traced request with the purpose")
	})
	// The exchange checks it too, for a caller that skips its appliance.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rt := dialAs(t, l, l.Consumer)
	ft, payload := rt.roundTrip(t, wire.RequestHead{ID: "p1", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/6", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange")
}
