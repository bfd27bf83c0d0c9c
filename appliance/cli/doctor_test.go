package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/internal/udpsink"
)

// only returns the findings with verdict v.
func only(fs []finding, v verdict) []finding {
	var out []finding
	for _, f := range fs {
		if f.v == v {
			out = append(out, f)
		}
	}
	return out
}

func TestCheckStateDir(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "bab.db")
	if err := os.WriteFile(key, []byte("identity"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	got := checkStateDir(dir, "")
	if len(got) != 1 || got[0].v != pass || !strings.Contains(got[0].result, "only it can read") {
		t.Fatalf("private state directory: %+v", got)
	}

	// The state file readable by everyone: FAIL, with the command to run.
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	got = checkStateDir(dir, "")
	fails := only(got, fail)
	if len(fails) != 1 || fails[0].fix != "sudo chmod 600 "+key || !strings.Contains(fails[0].result, "mode 644") {
		t.Fatalf("world-readable key file: %+v", got)
	}
	var b bytes.Buffer
	if err := report(&b, got); !errors.As(err, new(ExitError)) {
		t.Errorf("report of a failed check = %v, want an exit error", err)
	}
	if !strings.Contains(b.String(), "FAIL state directory") || !strings.Contains(b.String(), "fix: sudo chmod 600 "+key) {
		t.Errorf("report:\n%s", b.String())
	}

	// The directory open to the group as well.
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	got = checkStateDir(dir, "")
	if fails := only(got, fail); len(fails) != 2 || fails[0].fix != "sudo chmod 700 "+dir {
		t.Fatalf("group-open directory: %+v", got)
	}

	// Not there yet: fine before enrollment.
	if got := checkStateDir(filepath.Join(dir, "missing"), ""); len(got) != 1 || got[0].v != pass {
		t.Errorf("missing state directory: %+v", got)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bab.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nadmin:\n  listn: 127.0.0.1:7701\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, f := checkConfig(bad)
	if cfg != nil || f.v != fail || !strings.Contains(f.result, bad+":3:") || f.fix == "" {
		t.Errorf("config with a mistake on line 3: %+v", f)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("version: 1\nstate_dir: "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, f := checkConfig(good); cfg == nil || f.v != pass {
		t.Errorf("valid config: %+v", f)
	}
	if _, f := checkConfig(filepath.Join(dir, "none.yaml")); f.v != fail || !strings.Contains(f.fix, "--config") {
		t.Errorf("missing config: %+v", f)
	}
}

func TestCheckDNS(t *testing.T) {
	ctx := context.Background()
	if f, ips := checkDNS(ctx, nil, "127.0.0.1:7700"); f.v != pass || len(ips) != 1 {
		t.Errorf("IP literal: %+v %v", f, ips)
	}
	if f, ips := checkDNS(ctx, nil, "localhost:7700"); f.v != pass || len(ips) == 0 {
		t.Errorf("localhost: %+v %v", f, ips)
	}
	// A machine whose name servers do not answer.
	broken := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no name server reachable")
	}}
	f, _ := checkDNS(ctx, broken, "exchange.example.invalid:7700")
	if f.v != fail || !strings.Contains(f.result, "exchange.example.invalid does not resolve") || !strings.Contains(f.fix, "/etc/resolv.conf") {
		t.Errorf("unresolvable name: %+v", f)
	}
	if f, _ := checkDNS(ctx, nil, "exchange.example.gov"); f.v != fail {
		t.Errorf("address without a port: %+v", f)
	}
}

// TestCheckUDPNoAnswer: an exchange address where something swallows every
// UDP packet, as a firewall that drops them does (a closed port would be
// refused by ICMP instead). Within the probe's timeout, doctor says which
// rule to ask the network team for.
func TestCheckUDPNoAnswer(t *testing.T) {
	pc, err := udpsink.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := pc.LocalAddr().String()
	_, port, _ := net.SplitHostPort(addr)
	start := time.Now()
	r := tunnel.Probe(context.Background(), addr, &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "127.0.0.1"}, tunnel.ProbeTimeout)
	if took := time.Since(start); took > tunnel.ProbeTimeout+2*time.Second {
		t.Errorf("the probe took %s, over its %s timeout", took, tunnel.ProbeTimeout)
	}
	f := checkUDP(r, []string{"127.0.0.1"})
	if f.v != fail || !strings.Contains(f.result, "no answer within 5s") ||
		!strings.Contains(f.fix, "blocked by a firewall") || !strings.Contains(f.fix, "allow outbound UDP to 127.0.0.1 port "+port) {
		t.Errorf("no answer: %+v", f)
	}
	if c := checkClock(r); c.v != warn || !strings.Contains(c.result, "not measured") {
		t.Errorf("clock without an answer: %+v", c)
	}
}

func TestCheckUDPNamesTheAddresses(t *testing.T) {
	f := checkUDP(tunnel.ProbeResult{Addr: "exchange.gov.example:7700", Outcome: tunnel.ProbeNoAnswer}, []string{"192.0.2.7", "2001:db8::7"})
	if !strings.Contains(f.fix, "allow outbound UDP to exchange.gov.example (192.0.2.7, 2001:db8::7) port 7700") {
		t.Errorf("fix = %q", f.fix)
	}
	f = checkUDP(tunnel.ProbeResult{Addr: "192.0.2.7:7700", Outcome: tunnel.ProbeRefused, Detail: "appliance not enrolled at this exchange"}, nil)
	if f.v != fail || !strings.Contains(f.result, "refused this appliance: appliance not enrolled") || !strings.Contains(f.fix, "bab enroll --reenroll") {
		t.Errorf("refused: %+v", f)
	}
	f = checkUDP(tunnel.ProbeResult{Addr: "192.0.2.7:7700", Outcome: tunnel.ProbeRevoked, Detail: "revoked by the exchange: revoked by ops on 2026-11-22"}, nil)
	if f.v != fail || !strings.Contains(f.result, "this appliance was revoked by the exchange: revoked by ops") || !strings.Contains(f.fix, "--replace NAME") {
		t.Errorf("revoked: %+v", f)
	}
}

func TestClock(t *testing.T) {
	sent := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	probe := func(rtt, ahead time.Duration) tunnel.ProbeResult {
		return tunnel.ProbeResult{Addr: "127.0.0.1:7700", Outcome: tunnel.ProbeOK,
			Sent: sent, Received: sent.Add(rtt), ExchangeTime: sent.Add(rtt / 2).Add(ahead)}
	}
	tests := []struct {
		rtt, ahead time.Duration
		want       verdict
		says       string
	}{
		{4 * time.Millisecond, 0, pass, "agrees with the exchange's (within 2ms)"},
		{4 * time.Millisecond, 1500 * time.Millisecond, pass, "1.5s behind the exchange's (±2ms)"},
		{4 * time.Millisecond, 3 * time.Second, warn, "3s behind"},
		{40 * time.Millisecond, -31 * time.Second, fail, "31s ahead of the exchange's (±20ms)"},
		{40 * time.Millisecond, 10 * time.Minute, fail, "10m0s behind"},
	}
	for _, tc := range tests {
		f := checkClock(probe(tc.rtt, tc.ahead))
		if f.v != tc.want || !strings.Contains(f.result, tc.says) {
			t.Errorf("exchange %s ahead, rtt %s: %+v; want verdict %d saying %q", tc.ahead, tc.rtt, f, tc.want, tc.says)
		}
		if (f.v == pass) != (f.fix == "") || (f.v != pass && !strings.Contains(f.fix, "timedatectl set-ntp true")) {
			t.Errorf("exchange %s ahead: fix %q", tc.ahead, f.fix)
		}
	}
}

func TestReportVerdicts(t *testing.T) {
	var b bytes.Buffer
	err := report(&b, []finding{
		{check: "config", result: "fine"},
		{check: "clock", result: "3s behind", v: warn, fix: "sync"},
		{check: "config", result: "a.yaml:3: one\na.yaml:4: two", v: pass},
	})
	if err != nil {
		t.Errorf("warnings alone made doctor fail: %v", err)
	}
	want := "ok   config           fine\n" +
		"warn clock            3s behind\n" +
		"                      fix: sync\n" +
		"ok   config           a.yaml:3: one\n" +
		"                      a.yaml:4: two\n"
	if b.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestDoctorNotEnrolled runs the whole doctor on an appliance that was
// never enrolled: it says so, exits non-zero, skips the network checks
// that need the certificate, and leaves no state behind.
func TestDoctorNotEnrolled(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "bab.yaml")
	// A control socket where nothing answers.
	yaml := "version: 1\nstate_dir: " + state + "\nexchanges: [127.0.0.1:7700]\nadmin:\n  socket: " + filepath.Join(dir, "admin.sock") + "\ntpm:\n  device: none\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err := doctor(context.Background(), []string{"--config", cfg}, &b)
	if ee := (ExitError{}); !errors.As(err, &ee) || ee.Code != 1 {
		t.Errorf("doctor = %v, want exit status 1", err)
	}
	for _, want := range []string{
		"ok   config           " + cfg + " is valid\n",
		"ok   state directory  " + state + " does not exist yet",
		"warn service          not running",
		"FAIL enrollment       not enrolled\n",
		"ok   DNS              127.0.0.1 is an IP address",
		"warn UDP              127.0.0.1:7700: not checked: needs the appliance's certificate",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, b.String())
		}
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("doctor created the state directory (%v)", err)
	}
}

// TestCheckTCP: the TCP line says whether the fallback works, and a UDP
// that gets no answer is a warning, not a failure, when TCP carries the
// tunnel.
func TestCheckTCP(t *testing.T) {
	ok := tunnel.ProbeResult{Addr: "192.0.2.7:7700", Outcome: tunnel.ProbeOK}
	silent := tunnel.ProbeResult{Addr: "192.0.2.7:7700", Outcome: tunnel.ProbeNoAnswer, Detail: "timeout"}
	for _, c := range []struct {
		udp, tcp tunnel.ProbeResult
		want     verdict
		says     string
	}{
		{ok, ok, pass, "works too"},
		{silent, ok, warn, "runs over TCP instead of QUIC"},
		{ok, silent, pass, "no fallback"},
		{silent, silent, fail, "neither UDP nor TCP"},
	} {
		f := checkTCP(c.udp, c.tcp)
		if f.v != c.want || !strings.Contains(f.result+f.fix, c.says) {
			t.Errorf("udp %s, tcp %s: %v %q (fix %q), want %v saying %q", c.udp.Outcome, c.tcp.Outcome, f.v, f.result, f.fix, c.want, c.says)
		}
	}
}
