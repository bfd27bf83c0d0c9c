package appliance

import (
	"net/http"
	"strings"

	"github.com/babgate/bab/wire"
)

// Headers that never travel through Bab, in either direction, compared
// folded (case ignored, '_' taken for '-'): CGI, WSGI and Rack backends
// fold "Bab_Consumer" into the same variable as "Bab-Consumer", so a
// spelling a backend would read as one of these is one of these.
var (
	// Connection-level (RFC 9110 §7.6.1), or local to one office.
	hopHeaders = []string{
		"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
		"te", "trailer", "transfer-encoding", "upgrade",
		"authorization",  // the local system's credential for its own appliance
		"host",           // the backend gets its own
		"content-length", // carried in the head
	}
	// Headers with which a caller would speak for a proxy in front of the
	// backend: a method other than the one the policy checked, or an
	// address, host or path other than Bab's.
	overrideHeaders = []string{
		"x-http-method-override", "x-http-method", "x-method-override",
		"forwarded", "x-real-ip", "x-client-ip", "true-client-ip", "client-ip",
		"x-original-url", "x-rewrite-url", "x-original-method",
	}
	// Prefixes: Bab's own headers, which only Bab sets, and X-Forwarded-*.
	droppedPrefixes = []string{"bab-", "x-forwarded-"}
)

// dropped reports whether header name never travels through Bab.
func dropped(name string) bool {
	for _, h := range hopHeaders {
		if foldEqual(name, h) {
			return true
		}
	}
	for _, h := range overrideHeaders {
		if foldEqual(name, h) {
			return true
		}
	}
	for _, p := range droppedPrefixes {
		if len(name) >= len(p) && foldEqual(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// foldEqual compares name with a lower-case target, ignoring ASCII case
// and taking '_' for '-', without allocating.
func foldEqual(name, target string) bool {
	if len(name) != len(target) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != target[i] {
			return false
		}
	}
	return true
}

func toFields(h http.Header) []wire.Field {
	// Headers named in Connection are hop-by-hop too. net/http
	// canonicalises the names it parses, but a header built by hand need
	// not be: "connection" is Connection all the same.
	var extraHop []string
	for name, vs := range h {
		if !foldEqual(name, "connection") {
			continue
		}
		for _, v := range vs {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					extraHop = append(extraHop, n)
				}
			}
		}
	}
	fs := make([]wire.Field, 0, len(h))
	for name, vs := range h {
		if dropped(name) || namedIn(name, extraHop) {
			continue
		}
		name = http.CanonicalHeaderKey(name) // as net/http would send it
		for _, v := range vs {
			fs = append(fs, wire.Field{Name: name, Value: v})
		}
	}
	return fs
}

func namedIn(name string, list []string) bool {
	for _, n := range list {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

func fromFields(h http.Header, fs []wire.Field) {
	for _, f := range fs {
		if dropped(f.Name) {
			continue
		}
		h.Add(f.Name, f.Value) // Add canonicalises the name
	}
}
