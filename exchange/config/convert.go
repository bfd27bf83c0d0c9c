package config

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/babgate/bab/internal/yamlconf"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// config converts the whole file, starting from the defaults.
func (c *converter) config(f *fileV1) *Config {
	cfg := Default()
	cfg.StateDir = c.dirPath("state_dir", f.StateDir, cfg.StateDir)
	cfg.AdminSocket = c.dirPath("admin_socket", f.AdminSocket, cfg.AdminSocket)
	if f.Listen != nil {
		cfg.Listen = *f.Listen
		if err := yamlconf.CheckHostPort(*f.Listen, true); err != nil {
			c.p.Add(at("listen"), "%v", err)
		}
	}
	if f.TCP != nil {
		cfg.TCP = *f.TCP
	}
	if f.Names != nil {
		cfg.Names = c.names(*f.Names)
	}
	if f.AdminListen != nil {
		cfg.AdminListen = *f.AdminListen
		if *f.AdminListen == "" {
			c.p.Add(at("admin_listen"), "is empty; give host:port for /healthz, /readyz and /metrics, or remove the line to use the default %s", DefaultAdminListen)
		} else if err := yamlconf.CheckHostPort(*f.AdminListen, true); err != nil {
			c.p.Add(at("admin_listen"), "%v", err)
		}
	}
	if g := f.AdminReadOnlyGroup; g != nil {
		if *g != "" && !yamlconf.ValidGroupName(*g) {
			c.p.Add(at("admin_readonly_group"), "%q is not a group name; write \"\" for no read-only group, or remove the line to use %s", *g, DefaultAdminReadOnly)
		}
		cfg.AdminReadOnlyGroup = *g
	}
	cfg.OpsKeyFiles = c.opsKeys(f.OpsKeys)
	if f.PolicyThreshold != nil {
		cfg.PolicyThreshold = *f.PolicyThreshold
	}
	switch n := len(cfg.OpsKeyFiles); {
	case cfg.PolicyThreshold < 1:
		c.p.Add(at("policy_threshold"), "is %d, but it must be at least 1", cfg.PolicyThreshold)
	case n > 0 && cfg.PolicyThreshold > n:
		listed := fmt.Sprintf("%d ops keys are", n)
		if n == 1 {
			listed = "1 ops key is"
		}
		c.p.Add(at("policy_threshold"), "is %d, but only %s listed in ops_keys; it must be between 1 and %d", cfg.PolicyThreshold, listed, n)
	}
	cfg.CertLifetime = c.positive("certificate_lifetime", f.CertificateLifetime, cfg.CertLifetime)
	cfg.Heartbeat = c.heartbeat(f.Heartbeat, cfg.Heartbeat)
	cfg.RequestTimeoutMax = c.positive("request_timeout_max", f.RequestTimeoutMax, cfg.RequestTimeoutMax)
	c.trace(f, cfg)
	if a := f.Attestation; a != nil {
		for i, p := range a.VendorCAs {
			if p == "" {
				c.p.Add(at("attestation", "vendor_cas", i), "is empty; give the path of a PEM file of a TPM maker's CA")
			}
			cfg.Attestation.VendorCAFiles = append(cfg.Attestation.VendorCAFiles, c.path(p))
		}
		if a.PCRs != nil {
			cfg.Attestation.PCRs = c.pcrs(*a.PCRs)
		}
		if a.AllowSoftwareKeys != nil {
			cfg.Attestation.AllowSoftwareKeys = *a.AllowSoftwareKeys
		}
		if a.Interval != nil {
			if *a.Interval <= 0 {
				c.p.Add(at("attestation", "interval"), "must be more than 0")
			}
			cfg.Attestation.Interval = time.Duration(*a.Interval)
		}
	}
	if l := f.Limits; l != nil {
		for _, b := range []struct {
			key string
			in  *int
			out *int
		}{
			{"requests_per_appliance", l.RequestsPerAppliance, &cfg.Limits.RequestsPerAppliance},
			{"requests_per_pair", l.RequestsPerPair, &cfg.Limits.RequestsPerPair},
			{"tunnels_per_appliance", l.TunnelsPerAppliance, &cfg.Limits.TunnelsPerAppliance},
			{"enrollments", l.Enrollments, &cfg.Limits.Enrollments},
			{"handshakes_per_second", l.HandshakesPerSecond, &cfg.Limits.HandshakesPerSecond},
		} {
			if b.in == nil {
				continue
			}
			if *b.in < 1 || *b.in > 1<<20 {
				c.p.Add(at("limits", b.key), "is %d; it must be between 1 and %d", *b.in, 1<<20)
			}
			*b.out = *b.in
		}
		if cfg.Limits.RequestsPerPair > cfg.Limits.RequestsPerAppliance {
			c.p.Add(at("limits", "requests_per_pair"), "is %d, more than requests_per_appliance (%d), which bounds it anyway", cfg.Limits.RequestsPerPair, cfg.Limits.RequestsPerAppliance)
		}
	}
	if f.Log != nil && f.Log.Level != nil {
		cfg.LogLevel = slog.Level(*f.Log.Level)
	}
	return cfg
}

// trace converts the trace log's settings.
func (c *converter) trace(f *fileV1, cfg *Config) {
	cfg.TraceRetention = c.positive("trace_retention", f.TraceRetention, cfg.TraceRetention)
	cfg.TraceCheckpointEvery = c.positive("trace_checkpoint_every", f.TraceCheckpoint, cfg.TraceCheckpointEvery)
	cfg.TraceQueueWait = c.positive("trace_queue_wait", f.TraceQueueWait, cfg.TraceQueueWait)
	if o := f.TraceOrigin; o != nil {
		if err := tracelog.CheckOrigin(*o); err != nil {
			c.p.Add(at("trace_origin"), "%q cannot name the trace log: it must be non-empty, without spaces or \"+\" (for example exchange.example.gov/trace/1); remove the line to let the exchange name it", *o)
		}
		cfg.TraceOrigin = *o
	}
	if p := f.SubjectKeyFile; p != nil {
		if *p == "" {
			c.p.Add(at("subject_key_file"), "is empty; remove the line to keep it as %s in state_dir", SubjectKeyName)
		}
		cfg.SubjectKeyFile = c.path(*p)
	}
	if q := f.TraceQueue; q != nil {
		if *q < 1 || *q > MaxTraceQueue {
			c.p.Add(at("trace_queue"), "is %d; it must be between 1 and %d", *q, MaxTraceQueue)
		}
		cfg.TraceQueue = *q
	}
}

// pcrs checks a PCR selection: 0 to 23, each once, at least one.
func (c *converter) pcrs(list []int) []int {
	if len(list) == 0 {
		c.p.Add(at("attestation", "pcrs"), "is empty; list the PCRs to check, for example [0, 2, 4, 7]")
	}
	seen := map[int]bool{}
	for i, p := range list {
		if p < 0 || p > 23 {
			c.p.Add(at("attestation", "pcrs", i), "PCR %d does not exist; PCRs are numbered 0 to 23", p)
		}
		if seen[p] {
			c.p.Add(at("attestation", "pcrs", i), "PCR %d is listed twice", p)
		}
		seen[p] = true
	}
	return list
}

// dirPath converts an optional path: absent keeps def, empty is refused.
func (c *converter) dirPath(key string, p *string, def string) string {
	if p == nil {
		return def
	}
	if *p == "" {
		c.p.Add(at(key), "is empty; remove the line to use the default %s", def)
	}
	return c.path(*p)
}

// positive converts an optional duration that must be more than zero.
func (c *converter) positive(key string, d *yamlconf.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	if *d <= 0 {
		c.p.Add(at(key), "must be more than 0")
	}
	return time.Duration(*d)
}

// heartbeat converts the optional heartbeat, which must lie where
// appliances accept it: they refuse a welcome outside that range.
func (c *converter) heartbeat(d *yamlconf.Duration, def time.Duration) time.Duration {
	hb := c.positive("heartbeat", d, def)
	if hb > 0 && (hb < wire.MinHeartbeat || hb > wire.MaxHeartbeat) {
		c.p.Add(at("heartbeat"), "is %s, but appliances accept %s to %s", hb, wire.MinHeartbeat, wire.MaxHeartbeat)
	}
	return hb
}

// names checks the certificate names: at least one, each a DNS name or an
// IP address, each once.
func (c *converter) names(list []string) []string {
	if len(list) == 0 {
		c.p.Add(at("names"), "is empty; list at least one DNS name or IP address, or remove the line to use the defaults")
	}
	seen := map[string]int{}
	for i, s := range list {
		if err := yamlconf.CheckHost(s); err != nil {
			c.p.Add(at("names", i), "%v", err)
			continue
		}
		if j, dup := seen[s]; dup {
			c.p.Add(at("names", i), "%s is listed twice (also names[%d])", s, j)
		}
		seen[s] = i
	}
	return list
}

// opsKeys checks the ops key files: at least one, each listed once.
func (c *converter) opsKeys(list []string) []string {
	if len(list) == 0 {
		const what = "list at least one ops public key file (PEM), trusted to sign policy"
		if yamlconf.Line(c.p.Root, "ops_keys") == 0 {
			c.p.Add(nil, "missing ops_keys: %s", what)
		} else {
			c.p.Add(at("ops_keys"), "is empty; %s", what)
		}
		return nil
	}
	out := make([]string, len(list))
	seen := map[string]int{}
	for i, s := range list {
		out[i] = c.path(s)
		if s == "" {
			c.p.Add(at("ops_keys", i), "is empty; give the path of an ops public key file")
			continue
		}
		if j, dup := seen[out[i]]; dup {
			c.p.Add(at("ops_keys", i), "%s is listed twice (also ops_keys[%d])", s, j)
		}
		seen[out[i]] = i
	}
	return out
}
