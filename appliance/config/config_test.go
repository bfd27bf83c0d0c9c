package config

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const (
	hashA = "3183c18790d111d0aabe8c4ac04e99bea076e8fee879a5b35e0bd97ee2d14726"
	hashB = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"
)

func mustHash(t *testing.T, s string) [32]byte {
	t.Helper()
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test hash %q", s)
	}
	copy(h[:], b)
	return h
}

func TestDefault(t *testing.T) {
	got := Default()
	want := &Config{
		StateDir: "/var/lib/bab",
		Tunnels:  Tunnels{Lanes: 4, Transport: "auto"},
		Admin:    Admin{Listen: "127.0.0.1:7701", Socket: "/run/bab/admin.sock", SocketGroup: "bab-admin"},
		Console:  Console{Socket: "/run/bab/console.sock", SocketGroup: "bab-console"},
		Gateway: Gateway{
			Listen:         "127.0.0.1:8080",
			DefaultTimeout: 30 * time.Second,
			MaxTimeout:     5 * time.Minute,
			MaxBodyBytes:   4 << 30,
		},
		TPM:            TPM{Device: "/dev/tpmrm0"},
		ExpiryWarnings: []time.Duration{7 * 24 * time.Hour, 24 * time.Hour},
		LogLevel:       slog.LevelInfo,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
}

// TestParseMinimal checks that a file with only the version gives the
// defaults.
func TestParseMinimal(t *testing.T) {
	got, err := Parse("/etc/bab/bab.yaml", []byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.File = "/etc/bab/bab.yaml"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(version only) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseFull(t *testing.T) {
	in := `version: 1
state_dir: state
exchanges: [ex1.example.gov:7700, "[2001:db8::1]:7700"]
tunnels:
  lanes: 2
  transport: tcp
admin:
  listen: 127.0.0.1:9901
  socket: run/admin.sock
  socket_group: office-it
console:
  socket: run/console.sock
  socket_group: clerks
  listen: 192.0.2.10:7703
  names: [bab.office.local, 192.0.2.10]
gateway:
  listen: ":8443"
  tls:
    cert_file: /etc/bab/gateway.crt
    key_file: gateway.key
    client_ca_file: clients-ca.crt
  default_timeout: 1m
  max_timeout: 1d
  max_body_bytes: 0
  clients:
    - name: civil-registry
      token_sha256: ` + hashA + `
    - name: school-system
      cert_sha256: ` + hashB + `
services:
  - service: MA/GOV/DGSN/civil-status
    backend: https://backend.office.local:9443/api/
    timeout: 90s
    tls:
      ca_file: backend-ca.crt
      cert_file: client.crt
      key_file: client.key
      server_name: api.office.local
  - service: MA/GOV/DGSN/birth-records
    backend: http://127.0.0.1:9000
tpm:
  device: swtpm:/run/test/tpm.sock
policy:
  expiry_warnings: [1h, 3d]
log:
  level: debug
`
	got, err := Parse("/etc/bab/bab.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:      "/etc/bab/bab.yaml",
		StateDir:  "/etc/bab/state",
		Exchanges: []string{"ex1.example.gov:7700", "[2001:db8::1]:7700"},
		Tunnels:   Tunnels{Lanes: 2, Transport: "tcp"},
		Admin:     Admin{Listen: "127.0.0.1:9901", Socket: "/etc/bab/run/admin.sock", SocketGroup: "office-it"},
		Console:   Console{Socket: "/etc/bab/run/console.sock", SocketGroup: "clerks", Listen: "192.0.2.10:7703", Names: []string{"bab.office.local", "192.0.2.10"}},
		Gateway: Gateway{
			Listen: ":8443",
			TLS: &ServerTLS{
				CertFile:     "/etc/bab/gateway.crt",
				KeyFile:      "/etc/bab/gateway.key",
				ClientCAFile: "/etc/bab/clients-ca.crt",
			},
			DefaultTimeout: time.Minute,
			MaxTimeout:     24 * time.Hour,
			MaxBodyBytes:   0,
			Clients: []Client{
				{Name: "civil-registry", TokenSHA256: mustHash(t, hashA), HasToken: true},
				{Name: "school-system", CertSHA256: mustHash(t, hashB), HasCert: true},
			},
		},
		Services: []Service{
			{
				Service: "MA/GOV/DGSN/civil-status",
				Backend: &url.URL{Scheme: "https", Host: "backend.office.local:9443", Path: "/api/"},
				Timeout: 90 * time.Second,
				TLS: &BackendTLS{
					CAFile:     "/etc/bab/backend-ca.crt",
					CertFile:   "/etc/bab/client.crt",
					KeyFile:    "/etc/bab/client.key",
					ServerName: "api.office.local",
				},
			},
			{
				Service: "MA/GOV/DGSN/birth-records",
				Backend: &url.URL{Scheme: "http", Host: "127.0.0.1:9000"},
				Timeout: 30 * time.Second,
			},
		},
		TPM:            TPM{Device: "swtpm:/run/test/tpm.sock"},
		ExpiryWarnings: []time.Duration{3 * 24 * time.Hour, time.Hour},
		LogLevel:       slog.LevelDebug,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
		if !reflect.DeepEqual(got.Gateway, want.Gateway) {
			t.Errorf("gateway:\n got %+v\nwant %+v", got.Gateway, want.Gateway)
		}
		for i := range min(len(got.Services), len(want.Services)) {
			if !reflect.DeepEqual(got.Services[i], want.Services[i]) {
				t.Errorf("services[%d]:\n got %+v %+v\nwant %+v %+v", i, got.Services[i], got.Services[i].Backend, want.Services[i], want.Services[i].Backend)
			}
		}
	}
}

// TestParseAbsentOrSet checks values that differ from absent to set.
func TestParseAbsentOrSet(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(*Config) bool
	}{
		{"body limit absent", "version: 1\n", func(c *Config) bool { return c.Gateway.MaxBodyBytes == 4<<30 }},
		{"body limit 0", "version: 1\ngateway:\n  max_body_bytes: 0\n", func(c *Config) bool { return c.Gateway.MaxBodyBytes == 0 }},
		{"body limit size", "version: 1\ngateway:\n  max_body_bytes: 1MiB\n", func(c *Config) bool { return c.Gateway.MaxBodyBytes == 1<<20 }},
		{"tls null", "version: 1\ngateway:\n  tls:\n", func(c *Config) bool { return c.Gateway.TLS == nil }},
		{"empty exchanges", "version: 1\nexchanges: []\n", func(c *Config) bool { return len(c.Exchanges) == 0 }},
		{"relative to cwd", "version: 1\nstate_dir: st\n", func(c *Config) bool { return c.StateDir == filepath.Join("conf", "st") }},
		{"log level", "version: 1\nlog:\n  level: ERROR\n", func(c *Config) bool { return c.LogLevel == slog.LevelError }},
		{"lanes absent", "version: 1\n", func(c *Config) bool { return c.Tunnels.Lanes == 4 }},
		{"one lane", "version: 1\ntunnels:\n  lanes: 1\n", func(c *Config) bool { return c.Tunnels.Lanes == 1 }},
		{"fallback defaults", "version: 1\n", func(c *Config) bool {
			return c.Tunnels.QUICTimeout == 0 && c.Tunnels.QUICFailures == 0 && c.Tunnels.QUICProbeEvery == 0
		}},
		{"fallback settings", "version: 1\ntunnels:\n  quic_timeout: 5s\n  quic_failures: 4\n  quic_probe_every: 2m\n", func(c *Config) bool {
			return c.Tunnels.QUICTimeout == 5*time.Second && c.Tunnels.QUICFailures == 4 && c.Tunnels.QUICProbeEvery == 2*time.Minute
		}},
		{"log null", "version: 1\nlog:\n", func(c *Config) bool { return c.LogLevel == slog.LevelInfo }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("conf/bab.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%q) = %+v", tt.in, c)
			}
		})
	}
}

func TestLoadNotFound(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "bab.yaml"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotFound and fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, matches ErrInvalid", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(t.TempDir()) // a directory
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(dir) = %v, want a read error", err)
	}
}
