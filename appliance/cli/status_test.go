package cli

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/internal/golden"
)

func TestStatusGolden(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cases := map[string]appliance.Status{
		"status-up": {
			Appliance: "MA/MUN/RABAT:hq", Software: "1.0.0", Gateway: "127.0.0.1:8080",
			Policy:      appliance.PolicyStatus{Version: 7, Expires: now.Add(72 * time.Hour)},
			Tunnels:     []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-time.Hour), RTT: "2.1ms"}},
			Certificate: appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "software"},
			Services:    []string{"MA/MUN/RABAT/complaints"},
		},
		"status-down": {
			Appliance: "MA/MUN/RABAT:hq", Software: "1.0.0", Gateway: "127.0.0.1:8080",
			Policy: appliance.PolicyStatus{Version: 7, Expires: now.Add(-time.Hour), Expired: true,
				Note: "still enforced, DEGRADED, until central ops publish a new policy"},
			Tunnels:     []tunnel.State{{Addr: "exchange.example.gov:7700", Attempts: 12, LastError: "dial exchange.example.gov:7700: timeout: no recent network activity"}},
			Certificate: appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "software"},
		},
		"status-warning": {
			Appliance: "MA/MUN/RABAT:hq", Software: "1.0.0", Gateway: "127.0.0.1:8080",
			Policy:      appliance.PolicyStatus{Version: 8, Expires: now.Add(20 * time.Hour), Note: "expires in 20 hours: central ops must publish a new policy before then"},
			Certificate: appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "tpm"},
		},
		"status-new": {
			Appliance: "MA/MUN/RABAT:hq", Software: "1.0.0", Gateway: "127.0.0.1:8080",
			Certificate: appliance.CertStatus{NotAfter: now.Add(24 * time.Hour), Key: "software"},
		},
	}
	for name, st := range cases {
		var b bytes.Buffer
		printStatus(&b, &st, now)
		golden.Check(t, filepath.Join("testdata", name+".golden"), b.Bytes())
	}
}
