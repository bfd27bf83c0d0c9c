package yamlconf

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"30s", 30 * time.Second, ""},
		{"5m", 5 * time.Minute, ""},
		{"2h", 2 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1d", 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{" 7d ", 7 * 24 * time.Hour, ""},
		{"0", 0, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"", 0, "invalid duration"},
		{"30", 0, "write a number and a unit"},
		{"3x", 0, "write a number and a unit"},
		{"d", 0, "write a number and a unit"},
		{"1dd", 0, "write a number and a unit"},
		{"1d-1h", 0, "write a number and a unit"},
		{"-5s", 0, "must not be negative"},
		{"-1d", 0, "must not be negative"},
		{"999999999d", 0, "too long"},
		{"106751d23h59m", 0, "too long"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "30s"},
		{5 * time.Minute, "5m"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "24h"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"1048576", 1 << 20, ""},
		{"64KiB", 64 << 10, ""},
		{"1MiB", 1 << 20, ""},
		{"4GiB", 4 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{"1GB", 1e9, ""},
		{"10 MB", 10e6, ""},
		{"5kb", 5000, ""},
		{"12B", 12, ""},
		{"", 0, "invalid size"},
		{"GiB", 0, "invalid size"},
		{"1.5GiB", 0, "invalid size"},
		{"1G", 0, "invalid size"},
		{"0x10", 0, "invalid size"},
		{"-1", 0, "must not be negative"},
		{"9223372036854775808", 0, "too large"},
		{"9000000TiB", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSize(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"debug", slog.LevelDebug, false},
		{"info", slog.LevelInfo, false},
		{"Warn", slog.LevelWarn, false},
		{"ERROR", slog.LevelError, false},
		{"warning", 0, true},
		{"", 0, true},
		{"info+2", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLogLevel(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLogLevel(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	tests := []struct {
		in      string
		listen  bool
		wantErr string
	}{
		{"127.0.0.1:8080", false, ""},
		{"[::1]:8080", false, ""},
		{"exchange.example.gov:7700", false, ""},
		{":8080", true, ""},
		{"[::]:7700", true, ""},
		{"127.0.0.1:0", true, ""},
		{":8080", false, "the host is missing"},
		{"127.0.0.1:0", false, "port should be a number"},
		{"127.0.0.1", true, "is not host:port"},
		{"::1:8080", true, "is not host:port"},
		{"", true, "is not host:port"},
		{"host:http", true, "port should be a number"},
		{"host:65536", true, "port should be a number"},
		{"bad_host:80", false, "neither an IP address nor a DNS name"},
		{"-a.example:80", false, "neither an IP address nor a DNS name"},
		{"a..example:80", false, "neither an IP address nor a DNS name"},
	}
	for _, tt := range tests {
		err := CheckHostPort(tt.in, tt.listen)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckHostPort(%q, %v) = %v, want error containing %q", tt.in, tt.listen, err, tt.wantErr)
		}
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"localhost", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"Exchange-1.example.gov", true},
		{strings.Repeat("a", 63) + ".gov", true},
		{strings.Repeat("a", 64) + ".gov", false},
		{"", false},
		{"*.example.gov", false},
		{"example.gov.", false},
		{"a b", false},
	}
	for _, tt := range tests {
		if err := CheckHost(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckHost(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
