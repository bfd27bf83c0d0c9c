package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/babgate/bab/problem"
)

// wantProblem checks that a response is the typed error code from hop.
func wantProblem(t *testing.T, resp *http.Response, body []byte, code problem.Code, hop string) *problem.Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; status %d body %s", ct, resp.StatusCode, body)
	}
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode problem: %v: %s", err, body)
	}
	if p.Code != code || (hop != "" && p.Hop != hop) {
		t.Fatalf("problem = %s at %q (%s), want %s at %q", p.Code, p.Hop, p.Detail, code, hop)
	}
	if want := problem.Lookup(code).Status; resp.StatusCode != want || p.Status != want {
		t.Fatalf("status = %d (body %d), want %d", resp.StatusCode, p.Status, want)
	}
	if p.Type != code.TypeURI() || p.Detail == "" || p.Hint == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	return &p
}
