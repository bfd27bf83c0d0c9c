package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestSmugglingRefusedAtTheGateway plays a local system that tries to get
// past the path, method and query rules to the provider's backend, or to
// speak for Bab or for a proxy in front of the backend: path spellings a
// Java backend resolves elsewhere, an encoded '/' in the service part,
// query parameters the rule does not list, and headers a CGI, WSGI or Rack
// backend folds into Bab's own or reads as a method or client override.
func TestSmugglingRefusedAtTheGateway(t *testing.T) {
	plain, err := lab.StartPlainBackend()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	l := newLab(t, lab.Options{BackendURL: plain.URL})
	addr := strings.TrimPrefix(l.Consumer.GatewayURL, "http://")
	svc := "/" + lab.CivilStatus.String()
	get := func(target string, hdr map[string]string) *rawResult {
		t.Helper()
		h := map[string]string{"Authorization": "Bearer " + l.Consumer.Token}
		for k, v := range hdr {
			h[k] = v
		}
		res, err := rawCall{Method: "GET", Addr: addr, Path: target, Header: h}.do(30 * time.Second)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		return res
	}

	for _, c := range []struct {
		target string
		code   problem.Code
	}{
		{svc + "/citizens/..;/admin", problem.BadRequest},
		{svc + "/citizens/..%3B/admin", problem.BadRequest},
		{svc + "/citizens/..%3b/admin", problem.BadRequest},
		{svc + "/citizens;jsessionid=x/42", problem.BadRequest},
		{svc + "/citizens/.;/42", problem.BadRequest},
		{svc + "/citizens/%252e%252e/admin", problem.BadRequest},
		{svc + "/citizens/%2e%2e/admin", problem.BadRequest},
		{"/MA/GOV/ETATCIVIL/civil-status%2fcitizens/42", problem.BadRequest},
		{"/MA/GOV/ETATCIVIL/civil-status%2Fcitizens/42", problem.BadRequest},
		{svc + "/citizens/42?cin=1&admin=true", problem.NotAllowed},
		{svc + "/citizens/42?cin=1;admin=true", problem.NotAllowed},
	} {
		res := get(c.target, nil)
		var p problem.Problem
		if err := json.Unmarshal(res.Body, &p); err != nil || p.Code != c.code || p.Hop != "consumer" {
			t.Errorf("GET %s: status %d %s; want %s at the consumer", c.target, res.Resp.StatusCode, res.Body, c.code)
		}
	}

	res := get(svc+"/citizens/42?cin=AB12", map[string]string{
		"Bab_Consumer": "MA/GOV/DGSN", "BAB-CONSUMER-SYSTEM": "forged", "Bab-Purpose": "marketing",
		"X-HTTP-Method-Override": "DELETE", "X-Method-Override": "DELETE", "X-HTTP-Method": "DELETE",
		"Forwarded": "for=10.0.0.1", "X-Forwarded-For": "10.0.0.1", "X_Forwarded_Host": "admin.internal",
		"X-Original-URL": "/admin", "X-Real-IP": "10.0.0.1", "X-Case-Ref": "kept",
	})
	var got lab.Received
	if err := json.Unmarshal(res.Body, &got); err != nil || res.Resp.StatusCode != 200 {
		t.Fatalf("allowed call: status %d %s", res.Resp.StatusCode, res.Body)
	}
	if got.Method != "GET" || got.URI != "/citizens/42?cin=AB12" {
		t.Errorf("backend got %s %s, want GET /citizens/42?cin=AB12", got.Method, got.URI)
	}
	for name, vs := range got.Header {
		folded := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		switch {
		case folded == "bab-consumer" && (len(vs) != 1 || vs[0] != lab.Commune.String()):
			t.Errorf("backend got %s: %q, want only %s", name, vs, lab.Commune)
		case folded == "bab-consumer-system" && (len(vs) != 1 || vs[0] != lab.CommuneSystem):
			t.Errorf("backend got %s: %q, want only %s", name, vs, lab.CommuneSystem)
		case folded == "bab-purpose":
			t.Errorf("backend got the caller's %s %q under a rule that asks for no purpose", name, vs)
		case strings.Contains(folded, "override") || strings.HasPrefix(folded, "x-forwarded") || folded == "forwarded" ||
			folded == "x-original-url" || folded == "x-real-ip" || folded == "x-http-method":
			t.Errorf("backend got the caller's %s: %q", name, vs)
		}
	}
	if got.Header.Get("X-Case-Ref") != "kept" {
		t.Errorf("an ordinary end-to-end header was lost: %v", got.Header)
	}
}
