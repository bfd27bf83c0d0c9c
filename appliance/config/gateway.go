package config

import (
	"encoding/hex"
	"regexp"
	"time"

	"github.com/babgate/bab/internal/yamlconf"
)

// gateway converts the gateway section onto g, which holds the defaults.
func (c *converter) gateway(f *gatewayV1, g *Gateway) {
	if f.Listen != nil {
		g.Listen = c.listen(at("gateway", "listen"), *f.Listen)
	}
	if f.TLS != nil {
		g.TLS = c.serverTLS(f.TLS)
	}
	if f.DefaultTimeout != nil {
		g.DefaultTimeout = c.positive(at("gateway", "default_timeout"), *f.DefaultTimeout)
	}
	if f.MaxTimeout != nil {
		g.MaxTimeout = c.positive(at("gateway", "max_timeout"), *f.MaxTimeout)
	}
	if g.DefaultTimeout > g.MaxTimeout && g.MaxTimeout > 0 {
		if f.DefaultTimeout != nil {
			c.p.Add(at("gateway", "default_timeout"), "is %s, longer than gateway.max_timeout (%s%s); it must not be longer",
				yamlconf.Duration(g.DefaultTimeout), yamlconf.Duration(g.MaxTimeout), isDefault(f.MaxTimeout == nil))
		} else {
			c.p.Add(at("gateway", "max_timeout"), "is %s, shorter than gateway.default_timeout (%s%s); it must not be shorter",
				yamlconf.Duration(g.MaxTimeout), yamlconf.Duration(g.DefaultTimeout), isDefault(true))
		}
	}
	if f.MaxBodyBytes != nil {
		g.MaxBodyBytes = int64(*f.MaxBodyBytes)
	}
	g.Clients = c.clients(f.Clients, g.TLS)
}

// serverTLS converts the gateway's TLS block: certificate and key required.
func (c *converter) serverTLS(f *serverTLSV1) *ServerTLS {
	if f.CertFile == "" {
		c.p.Add(at("gateway", "tls"), "cert_file is missing (the gateway's certificate, a PEM file)")
	}
	if f.KeyFile == "" {
		c.p.Add(at("gateway", "tls"), "key_file is missing (the private key of the gateway's certificate, a PEM file)")
	}
	return &ServerTLS{
		CertFile:     c.path(f.CertFile),
		KeyFile:      c.path(f.KeyFile),
		ClientCAFile: c.path(f.ClientCAFile),
	}
}

// isDefault marks a value in a message as the default one.
func isDefault(yes bool) string {
	if yes {
		return ", the default"
	}
	return ""
}

// positive checks that a duration is more than zero.
func (c *converter) positive(path []any, d yamlconf.Duration) time.Duration {
	if d <= 0 {
		c.p.Add(path, "must be more than 0")
	}
	return time.Duration(d)
}

// clientName is the form of a client's name: what traces show. It starts
// with a letter or digit, so that it is never taken for a command-line flag.
var clientName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidClientName reports whether name can name a local system in
// gateway.clients.
func ValidClientName(name string) bool { return clientName.MatchString(name) }

// clients converts the allowed local systems. tls is the gateway's.
func (c *converter) clients(list []clientV1, tls *ServerTLS) []Client {
	var out []Client
	names := map[string]int{}
	tokens := map[[32]byte]int{}
	certs := map[[32]byte]int{}
	for i, f := range list {
		cl := Client{Name: f.Name}
		switch {
		case f.Name == "":
			c.p.Add(at("gateway", "clients", i), "name is missing (a short name for the system, shown in traces)")
		case !clientName.MatchString(f.Name):
			c.p.Add(at("gateway", "clients", i, "name"), "%q is not a valid client name: use 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit", f.Name)
		default:
			if j, dup := names[f.Name]; dup {
				c.p.Add(at("gateway", "clients", i, "name"), "client name %q is used twice (also gateway.clients[%d])", f.Name, j)
			}
			names[f.Name] = i
		}
		switch {
		case f.TokenSHA256 != nil && f.CertSHA256 != nil:
			c.p.Add(at("gateway", "clients", i), "set either token_sha256 or cert_sha256, not both")
		case f.TokenSHA256 != nil:
			cl.TokenSHA256, cl.HasToken = c.hash(at("gateway", "clients", i, "token_sha256"), *f.TokenSHA256, tokens, i)
		case f.CertSHA256 != nil:
			cl.CertSHA256, cl.HasCert = c.hash(at("gateway", "clients", i, "cert_sha256"), *f.CertSHA256, certs, i)
			if tls == nil || tls.ClientCAFile == "" {
				c.p.Add(at("gateway", "clients", i, "cert_sha256"), "needs gateway.tls.client_ca_file, so that the gateway asks local systems for their certificates")
			}
		default:
			c.p.Add(at("gateway", "clients", i), "needs token_sha256 (for a system that sends a bearer token) or cert_sha256 (for one that presents a certificate)")
		}
		out = append(out, cl)
	}
	return out
}

// hash decodes a SHA-256 written in hex; seen catches one used twice.
func (c *converter) hash(path []any, s string, seen map[[32]byte]int, i int) ([32]byte, bool) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		c.p.Add(path, "%q is not a SHA-256 hash (64 hexadecimal characters: 0-9 and a-f)", s)
		return h, false
	}
	copy(h[:], b)
	if j, dup := seen[h]; dup {
		c.p.Add(path, "the same hash is already given to gateway.clients[%d]; each system needs its own", j)
	}
	seen[h] = i
	return h, true
}
