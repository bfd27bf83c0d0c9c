// Package hostcheck refuses HTTP requests whose Host header names a site
// other than the admin address they reached.
//
// Threat model: DNS rebinding. A web page opened in a browser on the
// server (or on a machine that can reach an admin address) makes its own
// name, attacker.example, resolve to 127.0.0.1 after loading. The browser
// then lets the page read, as same-origin, whatever the local admin
// address answers. Such requests still carry the page's name in Host:
// the browser never sends a name the page did not use. Tools that are
// meant to call (the CLI, monitoring, curl) send an IP address, localhost,
// a name the operator chose for the machine, or, on a Unix socket, the
// fixed name of the daemon. Anything else is answered 421 with a plain
// explanation, before any handler runs.
//
// It is not authentication: a program that can connect can send any
// Host. Who may connect is the listener's business (loopback, a socket's
// file permissions).
package hostcheck

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
)

// Policy is the set of Host values one listener answers.
type Policy struct {
	what  string          // the listener, for the refusal's text
	names map[string]bool // allowed names, lower case, without port
	ips   bool            // any IP literal
	empty bool            // no Host at all (HTTP/1.0)
}

// ForTCP is the policy of a TCP address serving monitoring: IP literals,
// localhost, the listen address's own host, this machine's host name,
// the extra names given, and requests without Host (HTTP/1.0, which no
// browser sends). An IP literal cannot be rebound: a page at that address
// is the server's own. what names the listener in refusals.
func ForTCP(what, listen string, extra ...string) *Policy {
	p := &Policy{what: what, names: map[string]bool{"localhost": true}, ips: true, empty: true}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		p.names[normal(h)] = true
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		p.names[normal(h)] = true
	}
	for _, n := range extra {
		p.names[normal(n)] = true
	}
	return p
}

// Exact is the policy of a Unix socket: the one fixed name its clients
// use, nothing else.
func Exact(what, name string) *Policy {
	return &Policy{what: what, names: map[string]bool{normal(name): true}}
}

// Allows reports whether a request with this Host value is for us.
func (p *Policy) Allows(host string) bool {
	if host == "" {
		return p.empty
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		return p.ips && a.Zone() == ""
	}
	return p.names[normal(h)]
}

// Guard wraps next: a request whose Host the policy does not allow gets
// 421 Misdirected Request and an explanation, and next never sees it.
func (p *Policy) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.Allows(r.Host) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "refused: this is %s, and %q is not one of its names. "+
				"Requests made by web pages through DNS tricks carry their own name and are refused; "+
				"call it by its IP address or localhost instead.\n", p.what, r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// normal is a name as compared: lower case, without a final dot.
func normal(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }
