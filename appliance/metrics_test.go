package appliance

import (
	"crypto/sha256"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
)

// metricsAppliance is an appliance with a policy, one local system
// (token "t") and one exchange address, whose tunnel never runs: enough
// for the gateway to decide everything up to opening a stream.
func metricsAppliance(t *testing.T) *Appliance {
	t.Helper()
	clients, err := newClientAuth([]config.Client{{Name: "desk", TokenSHA256: sha256.Sum256([]byte("t")), HasToken: true}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	commune, registry := ident.MustMember("MA/MUN/RABAT"), ident.MustMember("MA/GOV/ETATCIVIL")
	svc := ident.MustService("MA/GOV/ETATCIVIL/civil-status")
	now := time.Now()
	a := &Appliance{
		cfg:     &config.Config{Gateway: config.Gateway{DefaultTimeout: time.Second, MaxTimeout: time.Second}},
		log:     log,
		id:      ident.MustAppliance("MA/MUN/RABAT:hq"),
		clients: clients,
	}
	// Two lanes to one address: metrics show the address once.
	l := &link{addr: "127.0.0.1:7700", out: evidence.NewOutbox(nil, func([]byte) error { return nil }, log)}
	for range 2 {
		l.lanes = append(l.lanes, tunnel.New(tunnel.Config{Addr: l.addr, TLS: &tls.Config{}, Log: log}))
	}
	a.links, a.tunnels = []*link{l}, l.lanes
	a.policy.Store(policy.Compile(&policy.Bundle{
		Version: 7, Issued: now, Expires: now.Add(time.Hour),
		Members:    []policy.Member{{ID: commune}, {ID: registry}},
		Appliances: []policy.Appliance{{ID: ident.MustAppliance("MA/MUN/RABAT:hq")}},
		Services:   []policy.Service{{ID: svc}},
		Rules:      []policy.Rule{{Consumer: commune, Service: svc, Methods: []string{"GET"}, PathPrefixes: []string{"/"}}},
	}))
	a.metrics = newMetrics(a)
	return a
}

func gatherAppliance(t *testing.T, a *Appliance) metrics.Families {
	t.Helper()
	f, err := metrics.Gather(a.metrics.reg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGatewayMetrics sends requests that the gateway decides by itself and
// checks that each is counted once, under its service only when the policy
// knows it.
func TestGatewayMetrics(t *testing.T) {
	a := metricsAppliance(t)
	h := a.GatewayHandler()
	send := func(method, path, token string) int {
		r := httptest.NewRequest(method, path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const svc = "/MA/GOV/ETATCIVIL/civil-status"
	send("GET", svc+"/citizens/1", "")                // unauthenticated
	send("DELETE", svc+"/citizens/1", "t")            // not_allowed
	send("GET", "/MA/GOV/NOPE/made-up/citizens", "t") // unknown_service
	send("GET", svc+"/citizens/1", "t")               // exchange_unreachable: no tunnel is up
	send("GET", svc+"/citizens/2", "t")
	reason := "test"
	a.quarantine.Store(&reason)
	send("GET", svc+"/citizens/1", "t") // appliance_quarantined, decided before the service is read

	f := gatherAppliance(t, a)
	name := strings.TrimPrefix(svc, "/")
	for _, c := range []struct {
		service, outcome string
		want             float64
	}{
		{"other", "unauthenticated", 1},
		{name, "not_allowed", 1},
		{"other", "unknown_service", 1},
		{name, "exchange_unreachable", 2},
		{"other", "appliance_quarantined", 1},
	} {
		got, ok := f.Value("bab_requests_total", "direction", "out", "service", c.service, "outcome", c.outcome)
		if !ok || got != c.want {
			t.Errorf("bab_requests_total{out,%s,%s} = %v (present %v), want %v", c.service, c.outcome, got, ok, c.want)
		}
	}
	if n := f.Series("bab_requests_total"); n != 5 {
		t.Errorf("%d request series, want 5", n)
	}
	if got, _ := f.Value("bab_request_duration_seconds", "direction", "out", "service", name); got != 3 {
		t.Errorf("latency histogram of %s counts %v requests, want 3", name, got)
	}
	if got, _ := f.Value("bab_request_duration_seconds", "direction", "out", "service", "other"); got != 3 {
		t.Errorf("latency histogram of other counts %v requests, want 3", got)
	}
}

func TestStateMetrics(t *testing.T) {
	a := metricsAppliance(t)
	f := gatherAppliance(t, a)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"bab_tunnel_up", []string{"exchange", "127.0.0.1:7700"}, 0},
		{"bab_tunnel_lanes_up", []string{"exchange", "127.0.0.1:7700"}, 0},
		{"bab_tunnel_lanes", []string{"exchange", "127.0.0.1:7700"}, 2},
		{"bab_tunnel_transport", []string{"exchange", "127.0.0.1:7700", "transport", "tcp"}, 0},
		{"bab_tunnel_reconnects_total", []string{"exchange", "127.0.0.1:7700"}, 0},
		{"bab_policy_version", nil, 7},
		{"bab_policy_expiry_timestamp_seconds", nil, float64(a.policy.Load().Expires().Unix())},
		{"bab_quarantined", nil, 0},
		{"bab_tpm_attestation", nil, 0},
		{"bab_build_info", []string{"version", Version}, 1},
	} {
		if got, ok := f.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := f["bab_certificate_expiry_timestamp_seconds"]; ok {
		t.Error("certificate expiry shown without a certificate")
	}
	// The gauges follow the state without anyone setting them.
	reason := "test"
	a.quarantine.Store(&reason)
	a.policy.Store(nil)
	f = gatherAppliance(t, a)
	if v, _ := f.Value("bab_quarantined"); v != 1 {
		t.Errorf("bab_quarantined = %v after quarantine, want 1", v)
	}
	if v, ok := f.Value("bab_policy_version"); !ok || v != 0 {
		t.Errorf("bab_policy_version = %v, %v without a policy, want 0", v, ok)
	}
	if _, ok := f["bab_policy_expiry_timestamp_seconds"]; ok {
		t.Error("policy expiry shown without a policy")
	}
}

// TestAdminMetrics checks that the TCP admin address serves /metrics and that
// /readyz names the tunnel that is down.
func TestAdminMetrics(t *testing.T) {
	a := metricsAppliance(t)
	a.ready.Store(true)
	h := a.MonitorHandler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `bab_tunnel_up{exchange="127.0.0.1:7700"} 0`) {
		t.Errorf("GET /metrics: %d\n%s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 503 || !strings.Contains(w.Body.String(), "tunnel to 127.0.0.1:7700 down") {
		t.Errorf("GET /readyz: %d %q, want 503 naming the tunnel", w.Code, w.Body.String())
	}
	// The control API is not on TCP, where every local user could call it.
	for _, r := range []struct{ method, path string }{{"GET", "/v1/status"}, {"POST", "/v1/probe"}, {"GET", "/"}} {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(r.method, r.path, nil))
		if w.Code != 404 {
			t.Errorf("%s %s on the TCP admin address: %d, want 404", r.method, r.path, w.Code)
		}
	}
}

// TestMetricsDocumented keeps docs/metrics.md in step with the appliance's
// registry: every metric it registers is listed, and every appliance
// metric listed is registered.
func TestMetricsDocumented(t *testing.T) {
	page, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names := metrics.Names(newMetrics(&Appliance{}).reg, metrics.Runtime())
	if len(names) < 10 {
		t.Fatalf("the registry describes only %v; the listing is broken", names)
	}
	doc := metrics.Documented(page)
	for _, n := range metrics.Undocumented(names, doc) {
		t.Errorf("docs/metrics.md has no table row for %s, which the appliance registers", n)
	}
	for _, d := range doc {
		if strings.HasPrefix(d, "bab_") && !strings.HasPrefix(d, "bab_exchange_") && !slices.Contains(names, d) {
			t.Errorf("docs/metrics.md lists %s, which the appliance does not register", d)
		}
	}
}
