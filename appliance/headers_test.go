package appliance

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/babgate/bab/wire"
)

// FuzzHeaders sends arbitrary header lines each way across the tunnel:
// toFields (a caller's request, a backend's response) and fromFields (a
// peer's head) never let through a header Bab sets itself or one that is
// hop-by-hop, in any letter case, and every other field arrives with its
// values in order.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		"Accept: application/json\nAccept: text/plain\nX-Case-Ref: 42",
		"Connection: keep-alive, X-Hop\nX-Hop: 1\nKeep-Alive: timeout=5\nTransfer-Encoding: chunked",
		"Bab-Consumer: MA/GOV/FORGED\nbab-timeout: 3s\nBAB-PURPOSE: x\nAuthorization: Bearer local",
		"connection: x-private\nx-private: secret\nhost: example\nte: trailers\nupgrade: h2c",
		"Proxy-Connection: keep-alive\nProxy-Authorization: Basic eA==\nContent-Length: 5\nTrailer: X",
		"X Bad Name: 1\nbab consumer: 2\n: empty name\nX-Empty:",
		"Bab_Consumer: MA/GOV/FORGED\nX_Forwarded_For: 10.0.0.1\nx-http-method-override: DELETE\nFORWARDED: for=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fs []wire.Field
		h := http.Header{}
		for _, line := range strings.Split(s, "\n") {
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimSpace(value)
			fs = append(fs, wire.Field{Name: name, Value: value})
			h[name] = append(h[name], value) // as sent, not canonicalised
		}
		hop := hopByHop(h)
		out := toFields(h)
		for _, f := range out {
			if forbidden(f.Name, hop) {
				t.Fatalf("toFields let %q through from %q", f.Name, s)
			}
		}
		// Every other value travels, in order, under its canonical name.
		for name, vs := range h {
			if forbidden(name, hop) {
				continue
			}
			var got []string
			for _, f := range out {
				if f.Name == http.CanonicalHeaderKey(name) {
					got = append(got, f.Value)
				}
			}
			if !containsInOrder(got, vs) {
				t.Fatalf("toFields sent %s as %q, want %q among them", name, got, vs)
			}
		}

		in := http.Header{}
		fromFields(in, fs)
		for name := range in {
			if forbidden(name, nil) {
				t.Fatalf("fromFields let %q through from %q", name, s)
			}
		}
		for _, f := range fs {
			if !forbidden(f.Name, nil) && !slices.Contains(in.Values(f.Name), f.Value) {
				t.Fatalf("fromFields dropped %s: %q", f.Name, f.Value)
			}
		}
	})
}

// hopByHop lists, in lower case, the names a Connection header of h
// declares hop-by-hop.
func hopByHop(h http.Header) map[string]bool {
	names := map[string]bool{}
	for k, vs := range h {
		if !strings.EqualFold(k, "Connection") {
			continue
		}
		for _, v := range vs {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names[strings.ToLower(n)] = true
				}
			}
		}
	}
	return names
}

// forbidden reports whether name may not cross the tunnel: Bab's own
// headers, the hop-by-hop ones, those hop names, and the override and
// forwarding headers, compared as a CGI backend would (any case, '_' for
// '-'). The list is written out here again, so that the test does not
// share a mistake with the code.
func forbidden(name string, hop map[string]bool) bool {
	folded := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	switch folded {
	case "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
		"transfer-encoding", "upgrade", "authorization", "host", "content-length",
		"x-http-method-override", "x-http-method", "x-method-override", "forwarded", "x-real-ip", "x-client-ip",
		"true-client-ip", "client-ip", "x-original-url", "x-rewrite-url", "x-original-method":
		return true
	}
	return strings.HasPrefix(folded, "bab-") || strings.HasPrefix(folded, "x-forwarded-") || hop[strings.ToLower(name)]
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got, want []string) bool {
	for _, w := range want {
		i := slices.Index(got, w)
		if i < 0 {
			return false
		}
		got = got[i+1:]
	}
	return true
}
