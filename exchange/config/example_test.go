package config

import (
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// TestExample loads the example shipped with the packages.
func TestExample(t *testing.T) {
	c, err := Load("../../packaging/bab-exchange.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/var/lib/bab-exchange" || c.Listen != "[::]:7700" || !c.TCP ||
		c.AdminSocket != "/run/bab-exchange/admin.sock" || c.AdminListen != "127.0.0.1:7702" || c.AdminReadOnlyGroup != "bab-exchange-ro" || c.PolicyThreshold != 1 ||
		c.CertLifetime != 24*time.Hour || c.Heartbeat != 10*time.Second ||
		c.RequestTimeoutMax != 5*time.Minute || c.LogLevel != slog.LevelInfo ||
		c.TraceRetention != 90*24*time.Hour || c.TraceOrigin != "" || c.TraceCheckpointEvery != 5*time.Second || c.TraceQueue != 65536 || c.TraceQueueWait != time.Second {
		t.Errorf("example settings: %+v", c)
	}
	if want := []string{"exchange.example.gov"}; !reflect.DeepEqual(c.Names, want) {
		t.Errorf("example names = %q, want %q", c.Names, want)
	}
	if want := []string{"/etc/bab-exchange/ops-1.pub"}; !reflect.DeepEqual(c.OpsKeyFiles, want) {
		t.Errorf("example ops keys = %q, want %q", c.OpsKeyFiles, want)
	}
}
