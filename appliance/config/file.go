package config

import "github.com/babgate/bab/internal/yamlconf"

// The types below are version 1 of bab.yaml exactly as written in the file.
// Pointers tell a key that is absent (use the default) from one that is set.

type fileV1 struct {
	Version   any         `yaml:"version"` // checked by yamlconf.Version
	StateDir  *string     `yaml:"state_dir"`
	Exchanges []string    `yaml:"exchanges"`
	Tunnels   *tunnelsV1  `yaml:"tunnels"`
	Admin     *adminV1    `yaml:"admin"`
	Console   *consoleV1  `yaml:"console"`
	Gateway   *gatewayV1  `yaml:"gateway"`
	Services  []serviceV1 `yaml:"services"`
	TPM       *tpmV1      `yaml:"tpm"`
	Policy    *policyV1   `yaml:"policy"`
	Log       *logV1      `yaml:"log"`
}

type tunnelsV1 struct {
	Lanes          *int               `yaml:"lanes"`
	Transport      *string            `yaml:"transport"`
	QUICTimeout    *yamlconf.Duration `yaml:"quic_timeout"`
	QUICFailures   *int               `yaml:"quic_failures"`
	QUICProbeEvery *yamlconf.Duration `yaml:"quic_probe_every"`
}

type policyV1 struct {
	ExpiryWarnings []yamlconf.Duration `yaml:"expiry_warnings"`
}

type tpmV1 struct {
	Device *string `yaml:"device"`
}

type adminV1 struct {
	Listen      *string `yaml:"listen"`
	Socket      *string `yaml:"socket"`
	SocketGroup *string `yaml:"socket_group"`
}

type consoleV1 struct {
	Socket      *string   `yaml:"socket"`
	SocketGroup *string   `yaml:"socket_group"`
	Listen      *string   `yaml:"listen"`
	Names       *[]string `yaml:"names"`
}

type gatewayV1 struct {
	Listen         *string            `yaml:"listen"`
	TLS            *serverTLSV1       `yaml:"tls"`
	DefaultTimeout *yamlconf.Duration `yaml:"default_timeout"`
	MaxTimeout     *yamlconf.Duration `yaml:"max_timeout"`
	MaxBodyBytes   *yamlconf.Size     `yaml:"max_body_bytes"`
	Clients        []clientV1         `yaml:"clients"`
}

type serverTLSV1 struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

type clientV1 struct {
	Name        string  `yaml:"name"`
	TokenSHA256 *string `yaml:"token_sha256"`
	CertSHA256  *string `yaml:"cert_sha256"`
}

type serviceV1 struct {
	Service string             `yaml:"service"`
	Backend string             `yaml:"backend"`
	Timeout *yamlconf.Duration `yaml:"timeout"`
	TLS     *backendTLSV1      `yaml:"tls"`
}

type backendTLSV1 struct {
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

type logV1 struct {
	Level *yamlconf.LogLevel `yaml:"level"`
}
