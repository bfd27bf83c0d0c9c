package config

import (
	"log/slog"
	"testing"
	"time"
)

// TestExample loads the example shipped with the packages.
func TestExample(t *testing.T) {
	c, err := Load("../../packaging/bab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/var/lib/bab" || c.Admin.Listen != "127.0.0.1:7701" || c.Admin.Socket != "/run/bab/admin.sock" || c.Admin.SocketGroup != "bab-admin" ||
		c.Gateway.Listen != "127.0.0.1:8080" || c.Gateway.TLS != nil ||
		c.Gateway.DefaultTimeout != 30*time.Second || c.Gateway.MaxBodyBytes != 4<<30 ||
		c.LogLevel != slog.LevelInfo || len(c.Exchanges) != 0 || c.Tunnels.Transport != "auto" ||
		c.Tunnels.QUICTimeout != 3*time.Second || c.Tunnels.QUICFailures != 2 || c.Tunnels.QUICProbeEvery != 30*time.Second {
		t.Errorf("example settings: %+v", c)
	}
	if len(c.Gateway.Clients) != 1 || c.Gateway.Clients[0].Name != "civil-registry" || !c.Gateway.Clients[0].HasToken {
		t.Errorf("example clients: %+v", c.Gateway.Clients)
	}
	if len(c.Services) != 1 || c.Services[0].Service != "MA/GOV/DGSN/civil-status" ||
		c.Services[0].Backend.String() != "http://127.0.0.1:9000/api" || c.Services[0].Timeout != 30*time.Second {
		t.Errorf("example services: %+v", c.Services)
	}
}
