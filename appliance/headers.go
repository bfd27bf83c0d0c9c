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
// or backend may not forge.
func babHeader(name string) bool { return strings.HasPrefix(name, "Bab-") }

func toFields(h http.Header) []wire.Field {
	// Headers named in Connection are hop-by-hop too.
	var extraHop map[string]bool
	for _, v := range h["Connection"] {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				if extraHop == nil {
					extraHop = map[string]bool{}
				}
				extraHop[http.CanonicalHeaderKey(n)] = true
			}
		}
	}
	fs := make([]wire.Field, 0, len(h))
	for name, vs := range h {
		if hopHeaders[name] || extraHop[name] || babHeader(name) {
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
		if hopHeaders[name] || babHeader(name) {
			continue
		}
		h.Add(name, f.Value)
	}
}
