package config

import (
	"log/slog"
	"path/filepath"
	"time"
)

// DefaultPath is where the exchange looks for its config file.
const DefaultPath = "/etc/bab-exchange/bab-exchange.yaml"

// Version is the config file format this package reads ("version: 1").
const Version = 1

// Config is the exchange's configuration, with defaults filled in.
type Config struct {
	File     string // where it was loaded from ("" for defaults)
	StateDir string // CA, registry, tokens, policy history, trace
	Listen   string // QUIC (UDP) host:port appliances connect to
	// TCP also listens on TCP at Listen's port, for appliances on
	// networks that block UDP (TLS 1.3 over TCP, see docs/wire.md).
	TCP         bool
	Names       []string // DNS names and IP addresses in the exchange's certificate
	AdminSocket string   // Unix socket the ops commands talk to
	AdminListen string   // TCP host:port of /healthz, /readyz and /metrics, for monitoring
	// AdminReadOnlyGroup is let onto the admin socket to list and show,
	// never to change anything; "" lets no one in beyond root, the
	// service's user and group.
	AdminReadOnlyGroup string
	OpsKeyFiles        []string      // ops public keys (PEM) trusted to sign policy
	PolicyThreshold    int           // distinct ops keys that must sign a bundle
	CertLifetime       time.Duration // lifetime of appliance certificates
	Heartbeat          time.Duration // control stream heartbeat interval
	RequestTimeoutMax  time.Duration // longest deadline the exchange honours
	TraceRetention     time.Duration // how long trace records are kept
	// TraceOrigin names the trace log (its checkpoints' origin line and
	// its key's name); "" lets the exchange name it when the log begins:
	// the first of Names, "/trace/" and a random log id.
	TraceOrigin string
	// TraceCheckpointEvery is how often the exchange signs a checkpoint
	// when the log grew.
	TraceCheckpointEvery time.Duration
	// TraceQueue bounds the records reserved and not yet written: every
	// request holds one from before it is forwarded until its record is
	// on disk.
	TraceQueue int
	// TraceQueueWait is how long a request waits for a place in the trace
	// queue before it is refused with trace_unavailable.
	TraceQueueWait time.Duration
	// SubjectKeyFile holds the key-encryption key that seals the keys
	// with which the exchange hashes requests' subjects; "" is
	// SubjectKeyName in StateDir (see SubjectKeyPath).
	SubjectKeyFile string
	Attestation    Attestation
	Limits         Limits
	LogLevel       slog.Level
}

// Limits bound what one appliance can take of the exchange, so that one
// office cannot starve the others. A request over a bound is refused at
// once with the problem overloaded and a Retry-After.
type Limits struct {
	// RequestsPerAppliance bounds the requests one consumer appliance has
	// in flight at once, over all its tunnels.
	RequestsPerAppliance int
	// RequestsPerPair bounds the requests one consumer appliance has in
	// flight at once to one provider appliance, whose streams every
	// consumer of that provider shares.
	RequestsPerPair int
	// TunnelsPerAppliance bounds the connections one appliance keeps.
	TunnelsPerAppliance int
	// Enrollments bounds the enrollment connections served at once; they
	// come before any authentication.
	Enrollments int
	// HandshakesPerSecond bounds the new connections the exchange takes
	// on per second (bursts of as many): when a whole fleet reconnects at
	// once, after a restart, the rest are refused at their first packet,
	// before any cryptography, and their appliances come back after a
	// jittered back-off.
	HandshakesPerSecond int
}

// Attestation is how the exchange checks appliances' TPMs.
type Attestation struct {
	// VendorCAFiles are PEM files of TPM manufacturers' CAs (roots and
	// intermediates) that EK certificates are checked against.
	VendorCAFiles []string
	// PCRs are the SHA-256 PCRs quoted at enrollment and on every check.
	PCRs []int
	// AllowSoftwareKeys lets appliances without a TPM enroll, with a
	// software key and no attestation. Off by default.
	AllowSoftwareKeys bool
	// Interval is how often a connected appliance must quote again.
	Interval time.Duration
}

// DefaultPCRs: firmware, option ROMs, boot manager, Secure Boot state
// (firmware-notes/pcrs.md says why).
func DefaultPCRs() []int { return []int{0, 2, 4, 7} }

// Defaults used when the file does not set a value.
const (
	DefaultStateDir          = "/var/lib/bab-exchange"
	DefaultListen            = "[::]:7700"
	DefaultAdminSocket       = "/run/bab-exchange/admin.sock"
	DefaultAdminListen       = "127.0.0.1:7702"
	DefaultAdminReadOnly     = "bab-exchange-ro"
	DefaultPolicyThreshold   = 1
	DefaultCertLifetime      = 24 * time.Hour
	DefaultHeartbeat         = 10 * time.Second
	DefaultRequestTimeoutMax = 5 * time.Minute
	DefaultTraceRetention    = 90 * 24 * time.Hour
	DefaultTraceCheckpoint   = 5 * time.Second
	DefaultTraceQueue        = 65536
	DefaultTraceQueueWait    = time.Second
	MaxTraceQueue            = 1 << 24
	DefaultAttestInterval    = 10 * time.Minute

	DefaultRequestsPerAppliance = 256
	DefaultRequestsPerPair      = 64
	DefaultTunnelsPerAppliance  = 16
	DefaultEnrollments          = 32
	DefaultHandshakesPerSecond  = 500
)

// SubjectKeyName is the subject key file's name in the state directory,
// when the config names no other.
const SubjectKeyName = "subject.key"

// SubjectKeyPath is the subject key file: SubjectKeyFile, or
// SubjectKeyName in the state directory.
func (c *Config) SubjectKeyPath() string {
	if c.SubjectKeyFile != "" {
		return c.SubjectKeyFile
	}
	return filepath.Join(c.StateDir, SubjectKeyName)
}

// DefaultLimits are the limits used when the file sets none.
func DefaultLimits() Limits {
	return Limits{RequestsPerAppliance: DefaultRequestsPerAppliance, RequestsPerPair: DefaultRequestsPerPair,
		TunnelsPerAppliance: DefaultTunnelsPerAppliance, Enrollments: DefaultEnrollments, HandshakesPerSecond: DefaultHandshakesPerSecond}
}

// DefaultNames are the certificate names used when the file sets none.
func DefaultNames() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// Default returns the configuration used when the file sets nothing. It has
// no ops keys: a config file must list at least one.
func Default() *Config {
	return &Config{
		StateDir:             DefaultStateDir,
		Listen:               DefaultListen,
		TCP:                  true,
		Names:                DefaultNames(),
		AdminSocket:          DefaultAdminSocket,
		AdminListen:          DefaultAdminListen,
		AdminReadOnlyGroup:   DefaultAdminReadOnly,
		PolicyThreshold:      DefaultPolicyThreshold,
		CertLifetime:         DefaultCertLifetime,
		Heartbeat:            DefaultHeartbeat,
		RequestTimeoutMax:    DefaultRequestTimeoutMax,
		TraceRetention:       DefaultTraceRetention,
		TraceCheckpointEvery: DefaultTraceCheckpoint,
		TraceQueue:           DefaultTraceQueue,
		TraceQueueWait:       DefaultTraceQueueWait,
		Attestation:          Attestation{PCRs: DefaultPCRs(), Interval: DefaultAttestInterval},
		Limits:               DefaultLimits(),
		LogLevel:             slog.LevelInfo,
	}
}
