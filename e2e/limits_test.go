package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestHeadLimitsAnswerAtTheGateway: a request with more or larger headers
// than the wire carries is refused at the consumer's gateway with a 431,
// before any stream reaches the exchange (it used to come back as a 500
// blamed on the exchange); an answer head too large to carry comes back as
// a typed bad_gateway from the provider, not as a reset stream.
func TestHeadLimitsAnswerAtTheGateway(t *testing.T) {
	l := newLab(t, lab.Options{})
	before := exchangeRequests(t, l)
	many := map[string]string{}
	for i := range 201 {
		many[fmt.Sprintf("X-Many-%d", i)] = "v"
	}
	for name, hdr := range map[string]map[string]string{
		"201 header fields": many,
		"a 70 KiB header":   {"X-Big": strings.Repeat("b", 70<<10)},
		"a 300 KiB header":  {"X-Bigger": strings.Repeat("c", 300<<10)},
	} {
		resp, body := do(t, l, "GET", "/citizens/1", nil, hdr)
		wantProblem(t, resp, body, problem.HeadersTooLarge, "consumer")
		t.Logf("%s: %d %s", name, resp.StatusCode, problem.HeadersTooLarge)
	}
	resp, _ := do(t, l, "GET", "/citizens/1", nil, map[string]string{"X-Huge": strings.Repeat("h", 2<<20)})
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 2 MiB header: status %d, want 431", resp.StatusCode)
	}
	if after := exchangeRequests(t, l); after != before {
		t.Errorf("the exchange saw %v requests during the refusals: they left the office", after-before)
	}

	resp, body := do(t, l, "GET", "/bytes?n=10&headers=250", nil, nil)
	wantProblem(t, resp, body, problem.BadGateway, "provider")
	resp, body = do(t, l, "GET", "/bytes?n=10&headers=150", nil, nil)
	if resp.StatusCode != 200 || len(body) != 10 || resp.Header.Get("X-Filler-149") != "x" {
		t.Errorf("150 answer headers: status %d, %d bytes, X-Filler-149 %q", resp.StatusCode, len(body), resp.Header.Get("X-Filler-149"))
	}
}

// exchangeRequests is how many request streams reached the exchange.
func exchangeRequests(t *testing.T, l *lab.Lab) float64 {
	t.Helper()
	f, err := lab.Scrape(context.Background(), l.Exchange.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	if mf := f["bab_exchange_requests_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
