package config

import (
	"log/slog"
	"net/url"
	"time"
)

// DefaultPath is where the appliance looks for its config file.
const DefaultPath = "/etc/bab/bab.yaml"

// Version is the config file format this package reads ("version: 1").
const Version = 1

// Config is the appliance's configuration, with defaults filled in.
type Config struct {
	File      string   // where it was loaded from ("" for defaults)
	StateDir  string   // identity, certificates and the policy cache
	Exchanges []string // host:port of each exchange; empty = the addresses recorded at enrollment
	Tunnels   Tunnels
	Admin     Admin
	Console   Console
	Gateway   Gateway
	Services  []Service // services this office provides
	TPM       TPM
	// ExpiryWarnings are how long before the policy expires the appliance
	// starts warning (log and status), largest first.
	ExpiryWarnings []time.Duration
	LogLevel       slog.Level
}

// Tunnels is how the appliance keeps its tunnels to each exchange.
type Tunnels struct {
	// Lanes is how many connections the appliance keeps to each exchange
	// address, each a whole tunnel; requests are spread over those up, so
	// that no one connection's packet loop is the limit, and a connection
	// that breaks leaves the others carrying.
	Lanes int
	// Transport is how tunnels reach the exchanges: "auto" (QUIC, TLS on
	// TCP where UDP is blocked), "quic" or "tcp".
	Transport string
	// With Transport auto: how long QUIC may take to answer before the
	// tunnel goes over TCP, after how many QUIC failures in a row (an
	// answer that is not a connection) it does, and every how long a
	// tunnel on TCP checks QUIC again. Zero is the tunnel's default (3 s,
	// 2, 30 s).
	QUICTimeout    time.Duration
	QUICFailures   int
	QUICProbeEvery time.Duration
}

// Lanes: the default, and the bounds of tunnels.lanes (the exchange
// allows 16 tunnels per appliance by default, enough for 4 lanes to two
// addresses with room for reconnections to overlap).
const (
	DefaultLanes = 4
	MaxLanes     = 8
)

// TPM says where the appliance's key and attestation live.
type TPM struct {
	// Device is the TPM to use: a device path (default /dev/tpmrm0),
	// "swtpm:SOCKET" for a software TPM (tests and the lab), or "none" for
	// a software key without attestation, which the exchange must allow.
	Device string
}

// TPMNone is the tpm.device value for a software key.
const TPMNone = "none"

// DefaultTPMDevice is the kernel's TPM resource manager.
const DefaultTPMDevice = "/dev/tpmrm0"

// Admin is where the appliance answers about itself: the control API on
// a Unix socket (status and probes, for bab status and bab doctor), guarded
// by the socket's group, and health and metrics on TCP for monitoring,
// which show nothing sensitive.
type Admin struct {
	Listen      string // host:port of /metrics, /healthz and /readyz
	Socket      string // path of the control socket
	SocketGroup string // whose members may use the control socket
}

// Console is where the clerks' consoles reach the appliance: a Unix socket
// for consoles on the server itself, guarded by its group, and, if Listen
// is set, HTTPS on the office network for paired consoles, each with the
// client certificate the appliance issued it.
type Console struct {
	Socket      string   // path of the console socket
	SocketGroup string   // whose members may use the console socket
	Listen      string   // host:port of the console's HTTPS address; "" for none
	Names       []string // names and addresses in its certificate
}

// Gateway is where local information systems call Bab.
type Gateway struct {
	Listen         string        // host:port
	TLS            *ServerTLS    // nil = plain HTTP
	DefaultTimeout time.Duration // deadline for a request that sets none
	MaxTimeout     time.Duration // the longest deadline a caller may ask for
	MaxBodyBytes   int64         // larger request bodies are refused; 0 = no limit
	Clients        []Client      // local systems allowed to call
}

// ServerTLS is the gateway's TLS server configuration.
type ServerTLS struct {
	CertFile     string
	KeyFile      string
	ClientCAFile string // "" = client certificates are not requested
}

// Client is a local information system allowed to call through the gateway,
// recognised by the SHA-256 of its bearer token or of its certificate (DER).
type Client struct {
	Name        string
	TokenSHA256 [32]byte // valid when HasToken
	CertSHA256  [32]byte // valid when HasCert
	HasToken    bool
	HasCert     bool
}

// Service is a service this office provides: requests for it that arrive
// through Bab are forwarded to Backend.
type Service struct {
	Service string   // service identifier, e.g. MA/GOV/DGSN/civil-status
	Backend *url.URL // http or https, without query or fragment
	Timeout time.Duration
	TLS     *BackendTLS // nil = default TLS settings (or none for http)
}

// BackendTLS is how the appliance connects to an https backend.
type BackendTLS struct {
	CAFile     string // "" = the system's trusted CAs
	CertFile   string // client certificate presented to the backend, with KeyFile
	KeyFile    string
	ServerName string // "" = the backend URL's host
}

// Defaults used when the file does not set a value.
const (
	DefaultStateDir       = "/var/lib/bab"
	DefaultTransport      = "auto"
	DefaultAdminListen    = "127.0.0.1:7701"
	DefaultAdminSocket    = "/run/bab/admin.sock"
	DefaultAdminGroup     = "bab-admin"
	DefaultConsoleSocket  = "/run/bab/console.sock"
	DefaultConsoleGroup   = "bab-console"
	DefaultGatewayListen  = "127.0.0.1:8080"
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxTimeout     = 5 * time.Minute
	DefaultMaxBodyBytes   = 4 << 30
	DefaultServiceTimeout = 30 * time.Second
)

// Default returns the configuration used when the file sets nothing: no
// clients, no services, plain HTTP gateway on loopback.
func Default() *Config {
	return &Config{
		StateDir: DefaultStateDir,
		Tunnels:  Tunnels{Lanes: DefaultLanes, Transport: DefaultTransport},
		Admin:    Admin{Listen: DefaultAdminListen, Socket: DefaultAdminSocket, SocketGroup: DefaultAdminGroup},
		Console:  Console{Socket: DefaultConsoleSocket, SocketGroup: DefaultConsoleGroup},
		Gateway: Gateway{
			Listen:         DefaultGatewayListen,
			DefaultTimeout: DefaultRequestTimeout,
			MaxTimeout:     DefaultMaxTimeout,
			MaxBodyBytes:   DefaultMaxBodyBytes,
		},
		TPM:            TPM{Device: DefaultTPMDevice},
		ExpiryWarnings: []time.Duration{7 * 24 * time.Hour, 24 * time.Hour},
		LogLevel:       slog.LevelInfo,
	}
}
