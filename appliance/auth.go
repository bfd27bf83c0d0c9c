package appliance

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/babgate/bab/appliance/config"
)

// clientAuth maps what a local system presents to its configured name.
// Tokens are kept only as SHA-256 hashes, so the config file never holds a
// usable secret; a map lookup by hash is what makes this cheap per request.
type clientAuth struct {
	tokens map[[32]byte]string
	certs  map[[32]byte]string
}

func newClientAuth(cs []config.Client) (clientAuth, error) {
	ca := clientAuth{tokens: map[[32]byte]string{}, certs: map[[32]byte]string{}}
	for _, c := range cs {
		if c.HasToken {
			ca.tokens[c.TokenSHA256] = c.Name
		}
		if c.HasCert {
			ca.certs[c.CertSHA256] = c.Name
		}
	}
	return ca, nil
}

// consoleSystem is the context key under which the console's lookups,
// made in this process, carry the clerk's identity: nothing from outside
// can set it.
type consoleSystem struct{}

// identify returns the calling system's name, or "" if it is not known.
func (c clientAuth) identify(r *http.Request) string {
	if sys, ok := r.Context().Value(consoleSystem{}).(string); ok {
		return sys
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		if name, ok := c.certs[sha256.Sum256(r.TLS.PeerCertificates[0].Raw)]; ok {
			return name
		}
	}
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		if name, ok := c.tokens[sha256.Sum256([]byte(strings.TrimSpace(h[7:])))]; ok {
			return name
		}
	}
	return ""
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
