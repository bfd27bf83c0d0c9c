package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/seal"
)

func TestRequestFlowsByteExact(t *testing.T) {
	l := newLab(t, lab.Options{})

	resp, body := do(t, l, "GET", "/citizens/42", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET status %d: %s", resp.StatusCode, body)
	}
	var rec map[string]any
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	// The backend saw who asked, as the exchange verified it.
	if rec["asked_by"] != lab.Commune.String() || rec["system"] != lab.CommuneSystem {
		t.Fatalf("backend saw consumer %v / %v", rec["asked_by"], rec["system"])
	}
	if resp.Header.Get("Bab-Request-Id") == "" {
		t.Fatal("no Bab-Request-Id on the answer")
	}

	// A body of random bytes, with a content type, comes back byte-exact.
	payload := make([]byte, 3<<20+123)
	_, _ = rand.Read(payload)
	resp, body = do(t, l, "POST", "/echo", bytes.NewReader(payload), map[string]string{"Content-Type": "application/x-test"})
	if resp.StatusCode != 200 || !bytes.Equal(body, payload) {
		t.Fatalf("echo: status %d, %d bytes back of %d, equal=%v", resp.StatusCode, len(body), len(payload), bytes.Equal(body, payload))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-test" {
		t.Fatalf("Content-Type back = %q", ct)
	}
	// A body without Content-Length (chunked) streams too.
	resp, body = do(t, l, "POST", "/echo", io.MultiReader(bytes.NewReader(payload[:1000]), strings.NewReader("tail")), nil)
	if resp.StatusCode != 200 || string(body) != string(payload[:1000])+"tail" {
		t.Fatalf("chunked echo: status %d, %d bytes", resp.StatusCode, len(body))
	}

	// The exchange traced the requests: metadata only, never the path.
	var tr []store.LoggedEntry
	waitFor(t, 5*time.Second, func() error {
		tr = nil
		if err := getJSON(l, "/v1/trace?limit=10", &tr); err != nil {
			return err
		}
		if len(tr) < 3 {
			return errors.New("trace has fewer than 3 entries")
		}
		return nil
	})
	var sawEcho bool
	for _, e := range tr {
		if e.Outcome != "ok" || e.Consumer != lab.CommuneHQ.String() || e.Provider != lab.RegistryDC.String() || e.ConsumerSystem != lab.CommuneSystem {
			t.Fatalf("trace entry %+v", e)
		}
		if e.Method == "POST" && sealedSize(e.RequestBytes, len(payload)) && sealedSize(e.ResponseBytes, len(payload)) {
			sawEcho = true
		}
	}
	if !sawEcho {
		t.Fatalf("no trace entry with the echo's sizes: %+v", tr)
	}
}

// sealedSize reports whether n bytes relayed are a sealed body of
// plain bytes with its heads: each 16 KiB piece adds a frame's header and
// a tag, the heads a few hundred bytes.
func sealedSize(n int64, plain int) bool {
	pieces := plain/seal.PieceSize + 2
	return n >= int64(plain) && n <= int64(plain+512+pieces*(seal.Overhead+4))
}

func TestDenyAtConsumer(t *testing.T) {
	l := newLab(t, lab.Options{})
	before := l.Backend.Requests.Load()

	resp, body := do(t, l, "DELETE", "/citizens/42", nil, nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	resp, body = do(t, l, "GET", "/admin/secrets", nil, nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")

	// A service the policy does not know.
	req, _ := http.NewRequest("GET", l.Consumer.GatewayURL+"/MA/GOV/ETATCIVIL/marriages/1", nil)
	req.Header.Set("Authorization", "Bearer "+l.Consumer.Token)
	resp, body = send(t, req)
	wantProblem(t, resp, body, problem.UnknownService, "consumer")

	// Not a service identifier, and a path that tries to climb out.
	req, _ = http.NewRequest("GET", l.Consumer.GatewayURL+"/ma/gov/x/y", nil)
	req.Header.Set("Authorization", "Bearer "+l.Consumer.Token)
	resp, body = send(t, req)
	wantProblem(t, resp, body, problem.BadRequest, "consumer")
	req, _ = http.NewRequest("GET", l.Consumer.GatewayURL+"/"+lab.CivilStatus.String()+"/citizens/%2e%2e/admin", nil)
	req.Header.Set("Authorization", "Bearer "+l.Consumer.Token)
	resp, body = send(t, req)
	wantProblem(t, resp, body, problem.BadRequest, "consumer")

	// No token, a wrong token.
	req, _ = http.NewRequest("GET", l.Consumer.GatewayURL+"/"+lab.CivilStatus.String()+"/citizens/1", nil)
	resp, body = send(t, req)
	wantProblem(t, resp, body, problem.Unauthenticated, "consumer")
	req.Header.Set("Authorization", "Bearer not-the-token")
	resp, body = send(t, req)
	wantProblem(t, resp, body, problem.Unauthenticated, "consumer")

	if got := l.Backend.Requests.Load(); got != before {
		t.Fatalf("the backend was reached %d times by refused requests", got-before)
	}
}

func TestProviderOfflineFailsFast(t *testing.T) {
	l := newLab(t, lab.Options{})
	if err := l.Provider.Stop(); err != nil {
		t.Fatal(err)
	}
	// The exchange notices the provider's tunnel closing at once (the
	// appliance closes it on the way out).
	waitFor(t, 10*time.Second, func() error {
		var fleet []map[string]any
		if err := getJSON(l, "/v1/appliances", &fleet); err != nil {
			return err
		}
		for _, a := range fleet {
			if a["id"] == lab.RegistryDC.String() && (a["connected"] == true || a["last_seen"] == nil) {
				return errors.New("provider still connected, or its last sighting not recorded")
			}
		}
		return nil
	})
	start := time.Now()
	resp, body := do(t, l, "GET", "/citizens/42", nil, nil)
	wantProblem(t, resp, body, problem.ProviderOffline, "exchange")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("provider_offline took %s; it should be immediate", d)
	}
}

func TestDeadlineAndCancelReachTheBackend(t *testing.T) {
	l := newLab(t, lab.Options{})

	// The caller's deadline: a typed timeout in time, and the backend's
	// request is cancelled rather than left running.
	start := time.Now()
	resp, body := do(t, l, "GET", "/slow?d=20s", nil, map[string]string{"Bab-Timeout": "1s"})
	wantProblem(t, resp, body, problem.Timeout, "")
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timeout answered after %s, want about 1s", d)
	}
	waitFor(t, 5*time.Second, func() error {
		if l.Backend.Canceled.Load() < 1 {
			return errors.New("backend request not cancelled after the deadline")
		}
		return nil
	})

	// The caller going away cancels the backend request too.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := l.Request(ctx, "GET", "/slow?d=20s", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)
	cancel()
	<-done
	waitFor(t, 5*time.Second, func() error {
		if l.Backend.Canceled.Load() < 2 {
			return errors.New("backend request not cancelled after the caller left")
		}
		return nil
	})

	// A malformed deadline is refused.
	resp, body = do(t, l, "GET", "/citizens/1", nil, map[string]string{"Bab-Timeout": "soon"})
	wantProblem(t, resp, body, problem.BadRequest, "consumer")
}

func TestBodyTooLarge(t *testing.T) {
	l := newLab(t, lab.Options{MaxBodyBytes: 1 << 20})
	before := l.Backend.Requests.Load()
	// Declared too large: refused before anything leaves the office.
	resp, body := do(t, l, "POST", "/sink", bytes.NewReader(make([]byte, 2<<20)), nil)
	wantProblem(t, resp, body, problem.BodyTooLarge, "consumer")
	if l.Backend.Requests.Load() != before {
		t.Fatal("a body declared too large reached the backend")
	}
	// Growing too large without a declared length: refused while streaming.
	resp, body = do(t, l, "POST", "/sink", io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), strings.NewReader("")), nil)
	wantProblem(t, resp, body, problem.BodyTooLarge, "consumer")
	// Within the limit it flows.
	resp, body = do(t, l, "POST", "/sink", bytes.NewReader(make([]byte, 1<<20)), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"bytes":1048576`) {
		t.Fatalf("1 MiB body: %d %s", resp.StatusCode, body)
	}
}

func TestPolicyUpdateTakesEffectWithoutRestart(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	resp, _ := do(t, l, "POST", "/echo", strings.NewReader("x"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("echo before: %d", resp.StatusCode)
	}
	pids := []int{l.Consumer.PID(), l.Provider.PID(), l.Exchange.PID()}

	// v2 takes POST /echo away.
	v, err := l.Push(ctx, func(b *policy.Bundle) {
		b.Rules[0].Methods = []string{"GET"}
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	t.Logf("policy v%d applied by both appliances %s after the push", v, time.Since(start))
	resp, body := do(t, l, "POST", "/echo", strings.NewReader("x"), nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")
	if resp, _ := do(t, l, "GET", "/citizens/7", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("GET under v2: %d", resp.StatusCode)
	}

	// v3 gives it back.
	if v, err = l.Push(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, l, "POST", "/echo", strings.NewReader("x"), nil); resp.StatusCode != 200 {
		t.Fatalf("echo under v3: %d", resp.StatusCode)
	}
	if now := []int{l.Consumer.PID(), l.Provider.PID(), l.Exchange.PID()}; now[0] != pids[0] || now[1] != pids[1] || now[2] != pids[2] {
		t.Fatal("a process was restarted")
	}

	// The exchange refuses a bundle that is not newer, and one signed by
	// an unknown key, with the reason; the current version stays.
	stale := l.DefaultPolicy(1, time.Now().UTC())
	if err := pushBundle(l, stale, l.OpsKey); err == nil || !strings.Contains(err.Error(), "not newer") {
		t.Fatalf("older bundle: err = %v", err)
	}
	_, stranger, _ := policy.GenerateKey()
	if err := pushBundle(l, l.DefaultPolicy(99, time.Now().UTC()), stranger); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("unknown signer: err = %v", err)
	}
}

func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func waitFor(t *testing.T, limit time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
