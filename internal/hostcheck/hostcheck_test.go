package hostcheck

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestForTCP(t *testing.T) {
	p := ForTCP("the test's metrics address", "monitor.office.lan:7701", "exchange.example.gov")
	host, _ := os.Hostname()
	for _, c := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1:7701", true},
		{"127.0.0.1", true},
		{"[::1]:7701", true},
		{"[::1]", true},
		{"192.168.10.5:7701", true},
		{"localhost:7701", true},
		{"LOCALHOST.:7701", true},
		{"monitor.office.lan:7701", true},
		{"exchange.example.gov", true},
		{host, true},
		{"", true},
		{"attacker.example", false},
		{"attacker.example:7701", false},
		{"localhost.attacker.example", false},
		{"127.0.0.1.nip.io:7701", false},
		{"[fe80::1%25eth0]:7701", false},
	} {
		if got := p.Allows(c.host); got != c.want {
			t.Errorf("Allows(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}

func TestExact(t *testing.T) {
	p := Exact("the appliance's control socket", "bab")
	for _, c := range []struct {
		host string
		want bool
	}{
		{"bab", true},
		{"BAB", true},
		{"bab:80", true},
		{"", false},
		{"127.0.0.1", false},
		{"localhost", false},
		{"attacker.example", false},
	} {
		if got := p.Allows(c.host); got != c.want {
			t.Errorf("Allows(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}

// TestGuardRefusesRebinding plays a rebound web page: its request names
// its own site, and the handler behind the guard never runs.
func TestGuardRefusesRebinding(t *testing.T) {
	ran := false
	h := ForTCP("the appliance's metrics address", "127.0.0.1:7701").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }))
	req := httptest.NewRequest("GET", "http://attacker.example:7701/metrics", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMisdirectedRequest || ran || !strings.Contains(w.Body.String(), `"attacker.example:7701" is not one of its names`) {
		t.Errorf("rebound request: %d %q, handler ran %v", w.Code, w.Body.String(), ran)
	}
	req = httptest.NewRequest("GET", "http://127.0.0.1:7701/metrics", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !ran {
		t.Errorf("request by address: %d, handler ran %v", w.Code, ran)
	}
}
