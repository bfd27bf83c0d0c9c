package config

import "github.com/babgate/bab/internal/yamlconf"

// The types below are version 1 of bab-exchange.yaml exactly as written in
// the file. Pointers tell a key that is absent (use the default) from one
// that is set.

type fileV1 struct {
	Version             any                `yaml:"version"` // checked by yamlconf.Version
	StateDir            *string            `yaml:"state_dir"`
	Listen              *string            `yaml:"listen"`
	TCP                 *bool              `yaml:"tcp"`
	Names               *[]string          `yaml:"names"`
	AdminSocket         *string            `yaml:"admin_socket"`
	AdminListen         *string            `yaml:"admin_listen"`
	AdminReadOnlyGroup  *string            `yaml:"admin_readonly_group"`
	OpsKeys             []string           `yaml:"ops_keys"`
	PolicyThreshold     *int               `yaml:"policy_threshold"`
	CertificateLifetime *yamlconf.Duration `yaml:"certificate_lifetime"`
	Heartbeat           *yamlconf.Duration `yaml:"heartbeat"`
	RequestTimeoutMax   *yamlconf.Duration `yaml:"request_timeout_max"`
	TraceRetention      *yamlconf.Duration `yaml:"trace_retention"`
	TraceOrigin         *string            `yaml:"trace_origin"`
	TraceCheckpoint     *yamlconf.Duration `yaml:"trace_checkpoint_every"`
	TraceQueue          *int               `yaml:"trace_queue"`
	TraceQueueWait      *yamlconf.Duration `yaml:"trace_queue_wait"`
	SubjectKeyFile      *string            `yaml:"subject_key_file"`
	Attestation         *attestationV1     `yaml:"attestation"`
	Limits              *limitsV1          `yaml:"limits"`
	Log                 *logV1             `yaml:"log"`
}

type limitsV1 struct {
	RequestsPerAppliance *int `yaml:"requests_per_appliance"`
	RequestsPerPair      *int `yaml:"requests_per_pair"`
	TunnelsPerAppliance  *int `yaml:"tunnels_per_appliance"`
	Enrollments          *int `yaml:"enrollments"`
	HandshakesPerSecond  *int `yaml:"handshakes_per_second"`
}

type attestationV1 struct {
	VendorCAs         []string           `yaml:"vendor_cas"`
	PCRs              *[]int             `yaml:"pcrs"`
	AllowSoftwareKeys *bool              `yaml:"allow_software_keys"`
	Interval          *yamlconf.Duration `yaml:"interval"`
}

type logV1 struct {
	Level *yamlconf.LogLevel `yaml:"level"`
}
