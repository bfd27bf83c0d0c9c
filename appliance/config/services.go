package config

import (
	"net/url"
	"regexp"
	"strings"
)

// serviceID is the form of a service identifier: COUNTRY/SECTOR/MEMBER/name.
var serviceID = regexp.MustCompile(`^[A-Z]{2}/[A-Z]{2,10}/[A-Z0-9]([A-Z0-9-]{0,38}[A-Z0-9])?/[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// services converts the services this office provides.
func (c *converter) services(list []serviceV1) []Service {
	var out []Service
	seen := map[string]int{}
	for i, f := range list {
		s := Service{Service: f.Service, Timeout: DefaultServiceTimeout}
		switch {
		case f.Service == "":
			c.p.Add(at("services", i), "service is missing (the service identifier, e.g. MA/GOV/DGSN/civil-status)")
		case !serviceID.MatchString(f.Service):
			c.p.Add(at("services", i, "service"), "%q is not a valid service identifier: write COUNTRY/SECTOR/MEMBER/name, "+
				"e.g. MA/GOV/DGSN/civil-status (country: 2 capital letters; sector: 2 to 10 capital letters; "+
				"member: capital letters, digits and hyphens; name: lowercase letters, digits and hyphens)", f.Service)
		default:
			if j, dup := seen[f.Service]; dup {
				c.p.Add(at("services", i, "service"), "service %s is listed twice (also services[%d])", f.Service, j)
			}
			seen[f.Service] = i
		}
		if f.Backend == "" {
			c.p.Add(at("services", i), "backend is missing (the http:// or https:// URL to forward requests to)")
		} else {
			s.Backend = c.backend(at("services", i, "backend"), f.Backend)
		}
		if f.Timeout != nil {
			s.Timeout = c.positive(at("services", i, "timeout"), *f.Timeout)
		}
		if f.TLS != nil {
			s.TLS = c.backendTLS(at("services", i, "tls"), f.TLS)
			if s.Backend != nil && s.Backend.Scheme != "https" {
				c.p.Add(at("services", i, "tls"), "is only used with an https:// backend")
			}
		}
		out = append(out, s)
	}
	return out
}

// backend parses a backend URL: http or https, a host, no query or fragment.
func (c *converter) backend(path []any, s string) *url.URL {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Hostname() == "":
		c.p.Add(path, "%q is not an http:// or https:// URL (e.g. http://127.0.0.1:9000/api)", s)
	case u.RawQuery != "" || u.ForceQuery:
		c.p.Add(path, "%q has a query (?...); give the base URL only", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		c.p.Add(path, "%q has a fragment (#...); give the base URL only", s)
	default:
		return u
	}
	return nil
}

// backendTLS converts a backend's TLS block.
func (c *converter) backendTLS(path []any, f *backendTLSV1) *BackendTLS {
	if (f.CertFile == "") != (f.KeyFile == "") {
		c.p.Add(path, "cert_file and key_file go together: set both (to present a client certificate to the backend) or neither")
	}
	return &BackendTLS{
		CAFile:     c.path(f.CAFile),
		CertFile:   c.path(f.CertFile),
		KeyFile:    c.path(f.KeyFile),
		ServerName: f.ServerName,
	}
}
