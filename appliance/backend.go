package appliance

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/ident"
)

// backend is a local system that provides one of this office's services.
type backend struct {
	url     *url.URL
	timeout time.Duration
	client  *http.Client
}

func newBackends(svcs []config.Service) (map[ident.Service]*backend, error) {
	out := make(map[ident.Service]*backend, len(svcs))
	for _, s := range svcs {
		id, err := ident.ParseService(s.Service)
		if err != nil {
			return nil, fmt.Errorf("services: %w", err)
		}
		tr := &http.Transport{
			Proxy:                 nil, // backends are on the office network; never via a proxy from the environment
			DialContext:           dialAnswerFirst(&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}),
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			// Bodies pass through as the backend sent them.
			DisableCompression: true,
			ForceAttemptHTTP2:  s.Backend.Scheme == "https",
		}
		if s.TLS != nil {
			tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.TLS.ServerName}
			if s.TLS.CAFile != "" {
				pool, err := loadPool(s.TLS.CAFile)
				if err != nil {
					return nil, fmt.Errorf("services: %s: backend CA: %w", id, err)
				}
				tc.RootCAs = pool
			}
			if s.TLS.CertFile != "" {
				cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
				if err != nil {
					return nil, fmt.Errorf("services: %s: backend client certificate: %w", id, err)
				}
				tc.Certificates = []tls.Certificate{cert}
			}
			tr.TLSClientConfig = tc
		}
		out[id] = &backend{url: s.Backend, timeout: s.Timeout, client: &http.Client{
			Transport: tr,
			// A redirect is the backend's answer to pass back, not to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	}
	return out, nil
}

// target is the backend URL for a path inside the service.
func (b *backend) target(path, rawQuery string) *url.URL {
	u := *b.url
	u.Path = joinPath(b.url.Path, path)
	u.RawPath = ""
	u.RawQuery = rawQuery
	return &u
}

func joinPath(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	if base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}
