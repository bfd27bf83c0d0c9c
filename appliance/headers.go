package appliance

import (
	"net/http"
	"strings"

	"github.com/babgate/bab/wire"
)

// hopHeaders are connection-level (RFC 9110 §7.6.1) or local to one office
// and never travel through Bab.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Authorization":  true, // the local system's credential for its own appliance
	"Host":           true,
	"Content-Length": true, // carried in the head
	"Bab-Timeout":    true,
}

// babHeader reports whether a header is set by Bab itself, which a caller
// or backend may not forge. Letter case is ignored: a name that does not
// canonicalise (one with a space, say) keeps its case.
func babHeader(name string) bool { return len(name) >= 4 && strings.EqualFold(name[:4], "Bab-") }

// travels reports whether a header named name (canonical) crosses the
// tunnel.
func travels(name string) bool { return !hopHeaders[name] && !babHeader(name) }

func toFields(h http.Header) []wire.Field {
	// Headers named in Connection are hop-by-hop too. net/http
	// canonicalises the names it parses, but a header built by hand need
	// not be: "connection" is Connection all the same.
	var extraHop map[string]bool
	for name, vs := range h {
		if http.CanonicalHeaderKey(name) != "Connection" {
			continue
		}
		for _, v := range vs {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					if extraHop == nil {
						extraHop = map[string]bool{}
					}
					extraHop[strings.ToLower(n)] = true
				}
			}
		}
	}
	fs := make([]wire.Field, 0, len(h))
	for name, vs := range h {
		name = http.CanonicalHeaderKey(name)
		if !travels(name) || extraHop != nil && extraHop[strings.ToLower(name)] {
			continue
		}
		for _, v := range vs {
			fs = append(fs, wire.Field{Name: name, Value: v})
		}
	}
	return fs
}

func fromFields(h http.Header, fs []wire.Field) {
	for _, f := range fs {
		name := http.CanonicalHeaderKey(f.Name)
		if !travels(name) {
			continue
		}
		h.Add(name, f.Value)
	}
}
