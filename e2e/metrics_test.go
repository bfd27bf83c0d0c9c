package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/problem"
)

// metricWant is one figure expected in a scrape: exactly want, or at least
// want when atLeast is set; absent when absent is set.
type metricWant struct {
	name    string
	labels  []string
	want    float64
	atLeast bool
	absent  bool
}

func (m metricWant) String() string { return fmt.Sprintf("%s%v", m.name, m.labels) }

// check says how f differs from m, "" if it does not; final is set when
// waiting longer cannot help (a counter already past its exact value).
func (m metricWant) check(f metrics.Families) (msg string, final bool) {
	got, ok := f.Value(m.name, m.labels...)
	switch {
	case m.absent && ok:
		return fmt.Sprintf("%s = %v, want no such series", m, got), strings.HasSuffix(m.name, "_total")
	case m.absent:
		return "", false
	case !ok:
		return fmt.Sprintf("%s is missing", m), false
	case m.atLeast && got < m.want:
		return fmt.Sprintf("%s = %v, want at least %v", m, got, m.want), false
	case !m.atLeast && got != m.want:
		final := strings.HasSuffix(m.name, "_total") && got > m.want
		return fmt.Sprintf("%s = %v, want %v", m, got, m.want), final
	}
	return "", false
}

// awaitMetrics scrapes url until every want holds, for at most limit: the
// last hop records a request just after the caller has its answer.
func awaitMetrics(t *testing.T, who, url string, limit time.Duration, wants []metricWant) metrics.Families {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		f, err := lab.Scrape(context.Background(), url)
		var wrong []string
		if err != nil {
			wrong = []string{err.Error()}
		}
		for _, w := range wants {
			if f == nil {
				break
			}
			if msg, final := w.check(f); msg != "" {
				if final {
					t.Fatalf("%s: %s", who, msg)
				}
				wrong = append(wrong, msg)
			}
		}
		if len(wrong) == 0 {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, after %s:\n  %s", who, limit, strings.Join(wrong, "\n  "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantReady(t *testing.T, who, url string, want ...string) {
	t.Helper()
	code, body, err := lab.Readyz(context.Background(), url)
	if err != nil {
		t.Fatalf("%s /readyz: %v", who, err)
	}
	if code != http.StatusOK {
		t.Fatalf("%s /readyz = %d %q, want 200", who, code, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s /readyz body %q does not say %q", who, body, w)
		}
	}
}

// TestMetrics sends a known number of requests through the lab and reads
// them back from the /metrics of the consumer, the provider and the
// exchange; then stops the exchange and watches the appliances notice.
func TestMetrics(t *testing.T) {
	l := newLab(t, lab.Options{})
	const carried = 7
	for i := range carried - 1 {
		resp, body := do(t, l, "GET", "/citizens/42", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	// The registry's own 404 is its answer, carried by Bab: outcome ok.
	if resp, body := do(t, l, "GET", "/citizens/0", nil, nil); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") == "application/problem+json" {
		t.Fatalf("unknown citizen: %d %s, want the backend's 404", resp.StatusCode, body)
	}
	// The lab's policy allows GET and POST only: the consumer's gateway
	// refuses a DELETE before anything leaves the office.
	resp, body := do(t, l, "DELETE", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, problem.NotAllowed, "consumer")

	svc, version, exch := lab.CivilStatus.String(), float64(l.PolicyVersion()), l.Exchange.Addr
	if version < 1 {
		t.Fatalf("lab policy version %v", version)
	}
	const settle = 10 * time.Second
	consumer := awaitMetrics(t, "consumer", l.Consumer.AdminURL, settle, []metricWant{
		{name: "bab_requests_total", labels: []string{"direction", "out", "service", svc, "outcome", "ok"}, want: carried},
		{name: "bab_requests_total", labels: []string{"direction", "out", "service", svc, "outcome", "not_allowed"}, want: 1},
		{name: "bab_requests_total", labels: []string{"direction", "in", "service", svc, "outcome", "ok"}, absent: true},
		{name: "bab_request_duration_seconds", labels: []string{"direction", "out", "service", svc}, want: carried + 1},
		{name: "bab_tunnel_up", labels: []string{"exchange", exch}, want: 1},
		{name: "bab_policy_version", want: version},
		{name: "bab_policy_expiry_timestamp_seconds", want: float64(time.Now().Unix()), atLeast: true},
		{name: "bab_quarantined", want: 0},
	})
	if n := consumer.Series("bab_requests_total"); n != 2 {
		t.Errorf("consumer has %d request series, want 2 (ok and not_allowed)", n)
	}
	if n := consumer.Series("bab_build_info"); n != 1 {
		t.Errorf("consumer has %d bab_build_info series, want 1", n)
	}
	awaitMetrics(t, "provider", l.Provider.AdminURL, settle, []metricWant{
		{name: "bab_requests_total", labels: []string{"direction", "in", "service", svc, "outcome", "ok"}, want: carried},
		{name: "bab_requests_total", labels: []string{"direction", "in", "service", svc, "outcome", "not_allowed"}, absent: true},
		{name: "bab_request_duration_seconds", labels: []string{"direction", "in", "service", svc}, want: carried},
		{name: "bab_tunnel_up", labels: []string{"exchange", exch}, want: 1},
		{name: "bab_policy_version", want: version},
	})
	awaitMetrics(t, "exchange", l.Exchange.AdminURL, settle, []metricWant{
		{name: "bab_exchange_requests_total", labels: []string{"service", svc, "outcome", "ok"}, want: carried},
		{name: "bab_exchange_requests_total", labels: []string{"service", svc, "outcome", "not_allowed"}, absent: true},
		{name: "bab_exchange_request_duration_seconds", labels: []string{"service", svc}, want: carried},
		{name: "bab_exchange_appliances_connected", want: 2},
		{name: "bab_exchange_tunnels", want: 2},
		{name: "bab_exchange_appliances_current_policy", want: 2},
		{name: "bab_exchange_appliances_quarantined", want: 0},
		{name: "bab_exchange_policy_version", want: version},
		{name: "bab_exchange_policy_staged_version", want: 0},
		{name: "bab_exchange_enrollments_total", labels: []string{"result", "ok"}, want: 2},
		{name: "bab_exchange_policy_pushes_total", labels: []string{"result", "sent"}, want: 2, atLeast: true},
		{name: "bab_exchange_policy_acks_total", labels: []string{"result", "applied"}, want: 2, atLeast: true},
	})
	wantReady(t, "consumer", l.Consumer.AdminURL)
	wantReady(t, "provider", l.Provider.AdminURL)
	wantReady(t, "exchange", l.Exchange.AdminURL, "2 appliances connected")

	// Without the exchange the appliances are not ready, say which tunnel
	// is down, and show it in their metrics.
	if err := l.Exchange.Stop(); err != nil {
		t.Fatalf("stop the exchange: %v", err)
	}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		waitFor(t, 20*time.Second, func() error {
			code, body, err := lab.Readyz(context.Background(), a.AdminURL)
			if err != nil {
				return err
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "tunnel to "+exch+" down") {
				return fmt.Errorf("%s /readyz = %d %q, want 503 naming the tunnel to %s", a.ID, code, body, exch)
			}
			return nil
		})
		awaitMetrics(t, a.ID.String(), a.AdminURL, 5*time.Second, []metricWant{
			{name: "bab_tunnel_up", labels: []string{"exchange", exch}, want: 0},
			{name: "bab_tunnel_reconnects_total", labels: []string{"exchange", exch}, want: 1, atLeast: true},
		})
	}
}
