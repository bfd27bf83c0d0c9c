package cli

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/babgate/bab/agent/tunnel"
)

// Clock skew limits: past skewWarn the clock deserves fixing, past
// skewFail certificates and the policy's expiry are judged wrongly.
const (
	skewWarn = 2 * time.Second
	skewFail = 30 * time.Second
)

const fixClock = "turn on time synchronisation: sudo timedatectl set-ntp true " +
	"(timedatectl status then says \"System clock synchronized: yes\"); if it stays off, ask your network team to allow NTP (UDP port 123) to a time server"

// checkDNS resolves the host of an exchange address with r (nil: the
// system's resolver). It returns the addresses found, for the firewall
// hint of the UDP check.
func checkDNS(ctx context.Context, r *net.Resolver, addr string) (finding, []string) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return finding{check: "DNS", result: fmt.Sprintf("%q is not an exchange address (HOST:PORT): %v", addr, err), v: fail,
			fix: "correct exchanges: in bab.yaml to the address central ops gave"}, nil
	}
	if net.ParseIP(host) != nil {
		return finding{check: "DNS", result: host + " is an IP address: nothing to resolve"}, []string{host}
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := r.LookupHost(ctx, host)
	if err != nil {
		return finding{check: "DNS", result: fmt.Sprintf("%s does not resolve: %v", host, err), v: fail,
			fix: "check the name servers this machine uses (/etc/resolv.conf, or resolvectl status), " +
				"or put the IP address central ops gave in exchanges: in bab.yaml"}, nil
	}
	return finding{check: "DNS", result: host + " resolves to " + strings.Join(ips, ", ")}, ips
}

// checkUDP says what a probe of an exchange found: reachable with the
// appliance's certificate accepted, reachable but refused, or no answer.
// ips are the host's addresses, for the firewall rule to ask for.
func checkUDP(r tunnel.ProbeResult, ips []string) finding {
	host, port, _ := net.SplitHostPort(r.Addr)
	switch r.Outcome {
	case tunnel.ProbeOK, tunnel.ProbeNoTime:
		return finding{check: "UDP", result: r.Addr + ": QUIC handshake completed; the exchange accepts this appliance's certificate"}
	case tunnel.ProbeRefused:
		return finding{check: "UDP", v: fail,
			result: r.Addr + " answers, but the exchange refused this appliance: " + r.Detail,
			fix: "the exchange no longer accepts this appliance's certificate or enrollment (not enrolled there, a superseded certificate, or cut off for more than 30 days): " +
				"tell central ops this appliance's ID and this message; they give a fresh token (made with --replace NAME if the name is enrolled) for bab enroll --reenroll"}
	case tunnel.ProbeRevoked:
		return finding{check: "UDP", v: fail,
			result: r.Addr + " answers, but this appliance was " + r.Detail,
			fix: "the exchange refuses this appliance's key for good; only a new enrollment brings it back: " +
				"central ops make a token with bab-exchange token create --replace NAME, then run bab enroll --reenroll with it"}
	case tunnel.ProbeUntrusted:
		return finding{check: "UDP", v: fail,
			result: r.Addr + " answers, but it is not the exchange this appliance enrolled with: " + r.Detail,
			fix:    "check exchanges: in bab.yaml against the address central ops gave; if central ops rebuilt the exchange, re-enroll with a fresh token"}
	case tunnel.ProbeNoAnswer:
		to := host
		if len(ips) > 0 && ips[0] != host {
			to += " (" + strings.Join(ips, ", ") + ")"
		}
		return finding{check: "UDP", v: fail,
			result: fmt.Sprintf("%s: no answer within %s", r.Addr, tunnel.ProbeTimeout),
			fix: fmt.Sprintf("outbound UDP to that port is probably blocked by a firewall: ask your network team to allow outbound UDP to %s port %s, and its answers back. "+
				"If it is allowed, ask central ops whether the exchange is running", to, port)}
	}
	return finding{check: "UDP", v: fail, result: r.Addr + ": " + r.Detail,
		fix: "check this machine's network settings (address, default route) towards " + host}
}

// checkTCP says whether the exchange answers over TLS on TCP, the
// fallback of a tunnel where UDP is blocked, next to what QUIC found.
func checkTCP(quic, r tunnel.ProbeResult) finding {
	udpOK := quic.Outcome == tunnel.ProbeOK || quic.Outcome == tunnel.ProbeNoTime
	switch r.Outcome {
	case tunnel.ProbeOK, tunnel.ProbeNoTime:
		if udpOK {
			return finding{check: "TCP", result: r.Addr + ": TLS over TCP works too: the tunnel would fall back to it if UDP were blocked"}
		}
		return finding{check: "TCP", v: warn, result: r.Addr + ": TLS over TCP works: the tunnel runs over TCP instead of QUIC",
			fix: "requests are carried, a little slower; to use QUIC, have UDP allowed as the UDP line says"}
	case tunnel.ProbeNoAnswer, tunnel.ProbeFailed:
		if udpOK {
			return finding{check: "TCP", result: r.Addr + ": no TLS over TCP (" + r.Detail + "): the tunnel uses QUIC, which works; it would have no fallback if UDP were blocked"}
		}
		return finding{check: "TCP", v: fail, result: r.Addr + ": no answer over TCP either: " + r.Detail,
			fix: "neither UDP nor TCP reaches the exchange: ask your network team to allow outbound UDP, or at least TCP, to that port; if they are allowed, ask central ops whether the exchange is running"}
	}
	return finding{check: "TCP", v: fail, result: r.Addr + " answers over TCP, but: " + r.Detail,
		fix: "see the UDP line: the exchange gives the same answer over both"}
}

// checkClock compares this machine's clock with the exchange's, from the
// time in a probe's answer.
func checkClock(r tunnel.ProbeResult) finding {
	switch r.Outcome {
	case tunnel.ProbeOK:
		skew, within := tunnel.Skew(r.Sent, r.Received, r.ExchangeTime)
		return clockFinding(r.Addr, skew, within)
	case tunnel.ProbeNoTime:
		return finding{check: "clock", v: warn, result: r.Addr + ": not measured: the exchange did not tell its time (" + r.Detail + ")",
			fix: "an exchange older than this bab does not; check that timedatectl status says \"System clock synchronized: yes\""}
	}
	return finding{check: "clock", v: warn, result: r.Addr + ": not measured: the exchange was not reached (see UDP above)"}
}

// clockFinding judges a measured skew: the exchange's clock minus this
// machine's, good to within.
func clockFinding(addr string, skew, within time.Duration) finding {
	abs := skew.Abs()
	var how string
	switch {
	case abs <= within || abs < time.Millisecond:
		how = fmt.Sprintf("this machine's clock agrees with the exchange's (within %s)", roundSkew(max(within, time.Millisecond)))
	case skew > 0:
		how = fmt.Sprintf("this machine's clock is %s behind the exchange's (±%s)", roundSkew(abs), roundSkew(max(within, time.Millisecond)))
	default:
		how = fmt.Sprintf("this machine's clock is %s ahead of the exchange's (±%s)", roundSkew(abs), roundSkew(max(within, time.Millisecond)))
	}
	f := finding{check: "clock", result: addr + ": " + how}
	switch {
	case abs > skewFail:
		f.v, f.fix = fail, "certificates and the policy's expiry depend on the clock: "+fixClock
	case abs > skewWarn:
		f.v, f.fix = warn, fixClock
	}
	return f
}

// roundSkew keeps a skew readable: milliseconds below a second, tenths of
// a second above.
func roundSkew(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
