package config

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/babgate/bab/internal/yamlconf"
)

// tunnels converts the tunnels section.
func (c *converter) tunnels(f *tunnelsV1, t *Tunnels) {
	if f.Lanes != nil {
		if n := *f.Lanes; n < 1 || n > MaxLanes {
			c.p.Add(at("tunnels", "lanes"), "is %d; it must be 1 to %d", n, MaxLanes)
		}
		t.Lanes = *f.Lanes
	}
	if f.Transport != nil {
		switch *f.Transport {
		case "auto", "quic", "tcp":
			t.Transport = *f.Transport
		default:
			c.p.Add(at("tunnels", "transport"), "is %q; write auto, quic or tcp, or remove the line to use %s", *f.Transport, DefaultTransport)
		}
	}
	if f.QUICTimeout != nil {
		t.QUICTimeout = c.between(at("tunnels", "quic_timeout"), time.Duration(*f.QUICTimeout), time.Second, time.Minute)
	}
	if f.QUICFailures != nil {
		if n := *f.QUICFailures; n < 1 || n > 10 {
			c.p.Add(at("tunnels", "quic_failures"), "is %d; it must be 1 to 10", n)
		}
		t.QUICFailures = *f.QUICFailures
	}
	if f.QUICProbeEvery != nil {
		t.QUICProbeEvery = c.between(at("tunnels", "quic_probe_every"), time.Duration(*f.QUICProbeEvery), 5*time.Second, time.Hour)
	}
}

// between returns d, reporting at where when it is outside lo to hi.
func (c *converter) between(where []any, d, lo, hi time.Duration) time.Duration {
	if d < lo || d > hi {
		c.p.Add(where, "is %s; it must be %s to %s", yamlconf.Duration(d), yamlconf.Duration(lo), yamlconf.Duration(hi))
	}
	return d
}

// config converts the whole file, starting from the defaults.
func (c *converter) config(f *fileV1) *Config {
	cfg := Default()
	if f.StateDir != nil {
		if *f.StateDir == "" {
			c.p.Add(at("state_dir"), "is empty; remove the line to use the default %s", DefaultStateDir)
		}
		cfg.StateDir = c.path(*f.StateDir)
	}
	cfg.Exchanges = c.exchanges(f.Exchanges)
	if f.Tunnels != nil {
		c.tunnels(f.Tunnels, &cfg.Tunnels)
	}
	if f.Admin != nil {
		c.admin(f.Admin, &cfg.Admin)
	}
	if f.Console != nil {
		c.console(f.Console, &cfg.Console)
	}
	if f.Gateway != nil {
		c.gateway(f.Gateway, &cfg.Gateway)
	}
	if cfg.Gateway.Listen == cfg.Admin.Listen && !strings.HasSuffix(cfg.Admin.Listen, ":0") {
		where, other := at("gateway", "listen"), "admin.listen"
		if yamlconf.Line(c.p.Root, where...) == 0 {
			where, other = at("admin", "listen"), "gateway.listen"
		}
		c.p.Add(where, "%s is also %s; the two need different addresses", cfg.Gateway.Listen, other)
	}
	cfg.Services = c.services(f.Services)
	if f.Policy != nil && f.Policy.ExpiryWarnings != nil {
		cfg.ExpiryWarnings = nil
		for i, d := range f.Policy.ExpiryWarnings {
			if d <= 0 {
				c.p.Add(at("policy", "expiry_warnings", i), "must be more than 0")
			}
			cfg.ExpiryWarnings = append(cfg.ExpiryWarnings, time.Duration(d))
		}
		slices.SortFunc(cfg.ExpiryWarnings, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	}
	if f.TPM != nil && f.TPM.Device != nil {
		d := *f.TPM.Device
		switch {
		case d == "":
			c.p.Add(at("tpm", "device"), "is empty; remove the line to use %s, or write none for a software key", DefaultTPMDevice)
		case d == TPMNone || strings.HasPrefix(d, "swtpm:"):
		default:
			d = c.path(d)
		}
		cfg.TPM.Device = d
	}
	if f.Log != nil && f.Log.Level != nil {
		cfg.LogLevel = slog.Level(*f.Log.Level)
	}
	return cfg
}

// exchanges checks the exchange addresses: host:port, each listed once.
func (c *converter) exchanges(list []string) []string {
	seen := map[string]int{}
	for i, s := range list {
		if err := yamlconf.CheckHostPort(s, false); err != nil {
			c.p.Add(at("exchanges", i), "%v", err)
			continue
		}
		if j, dup := seen[s]; dup {
			c.p.Add(at("exchanges", i), "%s is listed twice (also exchanges[%d])", s, j)
		}
		seen[s] = i
	}
	return list
}

// listen checks a listen address.
func (c *converter) listen(path []any, s string) string {
	if err := yamlconf.CheckHostPort(s, true); err != nil {
		c.p.Add(path, "%v", err)
	}
	return s
}
