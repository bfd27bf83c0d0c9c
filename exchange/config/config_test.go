package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	got := Default()
	want := &Config{
		StateDir:             "/var/lib/bab-exchange",
		Listen:               "[::]:7700",
		TCP:                  true,
		Names:                []string{"localhost", "127.0.0.1", "::1"},
		AdminSocket:          "/run/bab-exchange/admin.sock",
		AdminListen:          "127.0.0.1:7702",
		AdminReadOnlyGroup:   "bab-exchange-ro",
		PolicyThreshold:      1,
		CertLifetime:         24 * time.Hour,
		Heartbeat:            10 * time.Second,
		RequestTimeoutMax:    5 * time.Minute,
		TraceRetention:       90 * 24 * time.Hour,
		TraceCheckpointEvery: 5 * time.Second,
		TraceQueue:           65536,
		TraceQueueWait:       time.Second,
		Attestation:          Attestation{PCRs: []int{0, 2, 4, 7}, Interval: 10 * time.Minute},
		Limits:               DefaultLimits(),
		LogLevel:             slog.LevelInfo,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	// Each call returns its own names.
	got.Names[0] = "changed"
	if Default().Names[0] != "localhost" {
		t.Error("Default() shares its Names slice")
	}
}

// TestParseMinimal checks that a file with the version and one ops key
// gives the defaults.
func TestParseMinimal(t *testing.T) {
	got, err := Parse("/etc/bab-exchange/bab-exchange.yaml", []byte("version: 1\nops_keys: [ops.pub]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.File = "/etc/bab-exchange/bab-exchange.yaml"
	want.OpsKeyFiles = []string{"/etc/bab-exchange/ops.pub"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(minimal) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseFull(t *testing.T) {
	in := `version: 1
state_dir: state
listen: 192.0.2.1:7777
tcp: false
names: [exchange.example.gov, 192.0.2.1]
admin_socket: /run/x/admin.sock
admin_listen: "[::1]:9102"
admin_readonly_group: auditors
ops_keys:
  - keys/ops-1.pub
  - /srv/ops-2.pub
  - ops-3.pub
policy_threshold: 2
certificate_lifetime: 2d
heartbeat: 5s
request_timeout_max: 10m
trace_retention: 400d
trace_origin: exchange.example.gov/trace/replica-2
trace_checkpoint_every: 30s
trace_queue: 1000
trace_queue_wait: 250ms
subject_key_file: keys/subject.key
attestation:
  vendor_cas: [vendors/acme.pem]
  pcrs: [0, 7]
  allow_software_keys: true
  interval: 1m
limits:
  requests_per_appliance: 300
  requests_per_pair: 100
  tunnels_per_appliance: 4
  enrollments: 10
  handshakes_per_second: 50
log:
  level: warn
`
	got, err := Parse("/etc/bab-exchange/bab-exchange.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:                 "/etc/bab-exchange/bab-exchange.yaml",
		StateDir:             "/etc/bab-exchange/state",
		Listen:               "192.0.2.1:7777",
		TCP:                  false,
		Names:                []string{"exchange.example.gov", "192.0.2.1"},
		AdminSocket:          "/run/x/admin.sock",
		AdminListen:          "[::1]:9102",
		AdminReadOnlyGroup:   "auditors",
		OpsKeyFiles:          []string{"/etc/bab-exchange/keys/ops-1.pub", "/srv/ops-2.pub", "/etc/bab-exchange/ops-3.pub"},
		PolicyThreshold:      2,
		CertLifetime:         48 * time.Hour,
		Heartbeat:            5 * time.Second,
		RequestTimeoutMax:    10 * time.Minute,
		TraceRetention:       400 * 24 * time.Hour,
		TraceOrigin:          "exchange.example.gov/trace/replica-2",
		TraceCheckpointEvery: 30 * time.Second,
		TraceQueue:           1000,
		TraceQueueWait:       250 * time.Millisecond,
		SubjectKeyFile:       "/etc/bab-exchange/keys/subject.key",
		Attestation:          Attestation{VendorCAFiles: []string{"/etc/bab-exchange/vendors/acme.pem"}, PCRs: []int{0, 7}, AllowSoftwareKeys: true, Interval: time.Minute},
		Limits:               Limits{RequestsPerAppliance: 300, RequestsPerPair: 100, TunnelsPerAppliance: 4, Enrollments: 10, HandshakesPerSecond: 50},
		LogLevel:             slog.LevelWarn,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"version: 1\nops_keys: [a, b, c]\n", 1, false},
		{"version: 1\nops_keys: [a, b, c]\npolicy_threshold: 3\n", 3, false},
		{"version: 1\nops_keys: [a, b, c]\npolicy_threshold: 4\n", 0, true},
		{"version: 1\nops_keys: [a]\npolicy_threshold: -1\n", 0, true},
		{"version: 1\npolicy_threshold: 1\n", 0, true},
	}
	for _, tt := range tests {
		c, err := Parse("x.yaml", []byte(tt.in))
		if tt.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) = %v, want ErrInvalid", tt.in, err)
			}
			continue
		}
		if err != nil || c.PolicyThreshold != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want threshold %d", tt.in, c, err, tt.want)
		}
	}
}

func TestLoadNotFound(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "bab-exchange.yaml"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotFound and fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, matches ErrInvalid", err)
	}
}
