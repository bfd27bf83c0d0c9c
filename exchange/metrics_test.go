package exchange

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

func monitorExchange() *Exchange {
	x := &Exchange{log: slog.New(slog.NewTextHandler(io.Discard, nil)), sessions: map[ident.Appliance][]*session{}}
	x.metrics = newMetrics(x)
	return x
}

func getMonitor(t *testing.T, x *Exchange, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	x.MonitorHandler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Body.String()
}

// TestReadyz walks the exchange from starting to ready: each step that is
// missing is named on the first line, the connected count on the second.
func TestReadyz(t *testing.T) {
	x := monitorExchange()
	if code, body := getMonitor(t, x, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := getMonitor(t, x, "/readyz")
	if code != 503 || !strings.HasPrefix(body, "the QUIC listener for appliances is not up") || !strings.HasSuffix(body, "\n0 appliances connected\n") {
		t.Errorf("/readyz while starting = %d %q", code, body)
	}
	x.ready.Store(true)
	code, body = getMonitor(t, x, "/readyz")
	if code != 503 || !strings.HasPrefix(body, "no policy loaded") {
		t.Errorf("/readyz without a policy = %d %q", code, body)
	}
	now := time.Now()
	x.policy.Store(policy.Compile(&policy.Bundle{Version: 4, Issued: now, Expires: now.Add(time.Hour)}))
	if code, body = getMonitor(t, x, "/readyz"); code != 200 || body != "ok\n0 appliances connected\n" {
		t.Errorf("/readyz when ready = %d %q", code, body)
	}
	// The ops API is not on this address.
	if code, _ := getMonitor(t, x, "/v1/appliances"); code != 404 {
		t.Errorf("/v1/appliances on admin_listen = %d, want 404", code)
	}

	code, body = getMonitor(t, x, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	f, err := metrics.ParseText(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"bab_exchange_policy_version", nil, 4},
		{"bab_exchange_policy_staged_version", nil, 0},
		{"bab_exchange_policy_expiry_timestamp_seconds", nil, float64(now.Add(time.Hour).Unix())},
		{"bab_exchange_appliances_connected", nil, 0},
		{"bab_exchange_tunnels", nil, 0},
		{"bab_exchange_tunnels_by_transport", []string{"transport", "quic"}, 0},
		{"bab_exchange_tunnels_by_transport", []string{"transport", "tcp"}, 0},
		{"bab_exchange_appliances_quarantined", nil, 0},
		{"bab_exchange_enrollments_total", []string{"result", "ok"}, 0},
		{"bab_exchange_policy_pushes_total", []string{"result", "sent"}, 0},
		{"bab_exchange_build_info", []string{"version", Version}, 1},
	} {
		if got, ok := f.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	for trace, want := range map[string]string{
		"ok":           "ok",
		"rate_limited": "rate_limited",
		"not_allowed":  "not_allowed",
		"":             "internal",
		"reset:" + wire.CodeName(wire.CodeCanceled):   metrics.Canceled,
		"reset:" + wire.CodeName(wire.CodeTimeout):    string(problem.Timeout),
		"reset:" + wire.CodeName(wire.CodeTunnelLost): string(problem.ProviderOffline),
		"reset:" + wire.CodeName(wire.CodeBackend):    string(problem.BackendUnreachable),
		"reset:" + wire.CodeName(wire.CodeProtocol):   string(problem.Internal),
		"reset:unknown": string(problem.Internal),
	} {
		if got := outcome(trace); got != want {
			t.Errorf("outcome(%q) = %q, want %q", trace, got, want)
		}
	}
}

// TestMetricsDocumented keeps docs/metrics.md in step with the exchange's
// registry: every metric it registers is listed, and every exchange metric
// listed is registered.
func TestMetricsDocumented(t *testing.T) {
	page, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names := metrics.Names(monitorExchange().metrics.reg, metrics.Runtime())
	if len(names) < 10 {
		t.Fatalf("the registry describes only %v; the listing is broken", names)
	}
	doc := metrics.Documented(page)
	for _, n := range metrics.Undocumented(names, doc) {
		t.Errorf("docs/metrics.md has no table row for %s, which the exchange registers", n)
	}
	for _, d := range doc {
		if strings.HasPrefix(d, "bab_exchange_") && !slices.Contains(names, d) {
			t.Errorf("docs/metrics.md lists %s, which the exchange does not register", d)
		}
	}
}
