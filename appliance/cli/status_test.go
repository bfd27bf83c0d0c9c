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
	who := appliance.Status{Appliance: "MA/MUN/RABAT:hq", Member: "MA/MUN/RABAT", Software: "1.0.0", Gateway: "127.0.0.1:8080"}
	with := func(f func(*appliance.Status)) appliance.Status {
		st := who
		f(&st)
		return st
	}
	tunnelDown := appliance.LogRecord{Time: now.Add(-2 * time.Minute), Level: "WARN", Message: "tunnel down; reconnecting",
		Attrs: []appliance.LogAttr{{Key: "subsys", Value: "tunnel"}, {Key: "addr", Value: "exchange.example.gov:7700"},
			{Key: "err", Value: "dial exchange.example.gov:7700: timeout: no recent network activity"}, {Key: "retry_in", Value: "8.2s"}}}
	cases := map[string]appliance.Status{
		"status-up": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 7, Expires: now.Add(72 * time.Hour)}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-time.Hour), RTT: "2.1ms"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "tpm"}
			st.AttestedAt = now.Add(-4 * time.Minute)
			st.Services = []string{"MA/MUN/RABAT/complaints"}
		}),
		"status-down": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 7, Expires: now.Add(-time.Hour), Expired: true,
				Note: "still enforced, DEGRADED, until central ops publish a new policy"}
			st.Tunnels = []tunnel.State{
				{Addr: "exchange.example.gov:7700", Attempts: 12, LastError: "dial exchange.example.gov:7700: timeout: no recent network activity", LastErrorAt: now.Add(-2 * time.Minute)},
				{Addr: "exchange2.example.gov:7700"},
			}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(-3 * time.Hour), Key: "software"}
			for i := range 7 {
				r := tunnelDown
				r.Time = now.Add(time.Duration(i-9) * time.Minute)
				st.Recent = append(st.Recent, r)
			}
			st.Recent = append(st.Recent, appliance.LogRecord{Time: now.Add(-time.Minute), Level: "ERROR",
				Message: "the policy has expired; central ops must publish a new one",
				Attrs:   []appliance.LogAttr{{Key: "subsys", Value: "policy"}, {Key: "version", Value: "7"}}})
		}),
		"status-warning": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 8, Expires: now.Add(20 * time.Hour), Note: "expires in 20 hours: central ops must publish a new policy before then"}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-3 * 24 * time.Hour), RTT: "12ms"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "tpm"}
			st.Recent = []appliance.LogRecord{{Time: now.Add(-time.Hour), Level: "WARN", Message: "the policy expires soon; central ops must publish a new one",
				Attrs: []appliance.LogAttr{{Key: "subsys", Value: "policy"}, {Key: "version", Value: "8"}, {Key: "in", Value: "21h0m0s"}}}}
		}),
		"status-quarantine": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 9, Expires: now.Add(30 * 24 * time.Hour)}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-10 * time.Minute), RTT: "3ms"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(23 * time.Hour), Key: "tpm"}
			st.Quarantine = "boot state differs from the baseline in PCR [7]"
			st.AttestedAt = now.Add(-10 * time.Minute)
			st.Recent = []appliance.LogRecord{{Time: now.Add(-10 * time.Minute), Level: "WARN", Message: "the exchange put this appliance in quarantine",
				Attrs: []appliance.LogAttr{{Key: "subsys", Value: "attest"}, {Key: "reason", Value: "boot state differs from the baseline in PCR [7]"}}}}
		}),
		"status-revoked": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 9, Expires: now.Add(30 * 24 * time.Hour)}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Attempts: 6, Revoked: true, LastErrorAt: now.Add(-20 * time.Second),
				LastError: "revoked by the exchange: revoked by ops on 2026-11-22"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(23 * time.Hour), Key: "tpm", Serial: "5f0e3c9a1b2d4e6f708192a3b4c5d6e7"}
			st.Recent = []appliance.LogRecord{{Time: now.Add(-20 * time.Second), Level: "ERROR", Message: "the exchange revoked this appliance; only a new enrollment brings it back",
				Attrs: []appliance.LogAttr{{Key: "subsys", Value: "tunnel"}, {Key: "err", Value: "revoked by the exchange: revoked by ops on 2026-11-22"}}}}
		}),
		"status-other-key": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 9, Expires: now.Add(30 * 24 * time.Hour),
				OtherKey: "sha256:0d6f8c3fa1e5b2c47d9e03f6a8b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d"}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-5 * time.Minute), RTT: "2.4ms"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(23 * time.Hour), Key: "tpm", Serial: "7a1c",
				KeyHash: "sha256:9b2e4d6f8a0c1e3f5a7b9c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f"}
			st.AttestedAt = now.Add(-4 * time.Minute)
		}),
		"status-tcp": with(func(st *appliance.Status) {
			st.Policy = appliance.PolicyStatus{Version: 7, Expires: now.Add(72 * time.Hour)}
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700", Connected: true, Since: now.Add(-time.Hour), RTT: "2.6ms",
				Transport: "tcp", TransportReason: "QUIC got no answer within 3s; UDP may be blocked"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(20 * time.Hour), Key: "tpm"}
			st.AttestedAt = now.Add(-4 * time.Minute)
		}),
		"status-new": with(func(st *appliance.Status) {
			st.Tunnels = []tunnel.State{{Addr: "exchange.example.gov:7700"}}
			st.Certificate = appliance.CertStatus{NotAfter: now.Add(24 * time.Hour), Key: "tpm"}
		}),
	}
	for name, st := range cases {
		var b bytes.Buffer
		printStatus(&b, &st, now)
		golden.Check(t, filepath.Join("testdata", name+".golden"), b.Bytes())
	}
}
