package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance"
)

// status prints what the running appliance is doing, from its control
// socket;
// when that does not answer, it says why the service is not running.
func status(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("status")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := controlConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := fetchStatus(ctx, cfg.Admin, 5*time.Second)
	if errors.Is(err, ErrControlDenied) {
		return err
	}
	if err != nil {
		return diagnose(cfg)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(stdout, st, time.Now())
	return nil
}

// statusErrors is how many of the recent warnings and errors the status
// screen shows; --json gives all the appliance keeps.
const statusErrors = 5

// printStatus writes the one-screen status: who the appliance is, its
// tunnels, policy, attestation and certificate, and its last problems.
func printStatus(w io.Writer, st *appliance.Status, now time.Time) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("Appliance", "%s (member %s), %s key, bab %s", st.Appliance, st.Member, keyName(st.Certificate.Key), st.Software)
	line("Gateway", "%s", st.Gateway)
	for _, t := range st.Tunnels {
		switch {
		case t.Connected:
			line("Tunnel", "%s up since %s (%s), rtt %s, over %s%s", t.Addr, t.Since.Format(time.RFC3339), appliance.PlainDuration(now.Sub(t.Since)), t.RTT, transportName(t), lanes(t))
			if t.TransportReason != "" {
				line("", "over TCP because %s", t.TransportReason)
			}
		case t.Revoked:
			line("Tunnel", "%s REVOKED (%s), last refused at %s: %s", t.Addr, plural(t.Attempts, "attempt"), t.LastErrorAt.Format(time.RFC3339), t.LastError)
		case t.Attempts == 0:
			line("Tunnel", "%s connecting (no answer yet)", t.Addr)
		default:
			line("Tunnel", "%s DOWN (%s), last error at %s: %s", t.Addr, plural(t.Attempts, "attempt"), t.LastErrorAt.Format(time.RFC3339), t.LastError)
		}
	}
	switch {
	case anyRevoked(st.Tunnels):
		line("", "this appliance was revoked by the exchange: its key is refused for good and requests are refused;")
		line("", "it keeps trying, but only a new enrollment brings it back: central ops make a token with")
		line("", "bab-exchange token create --replace NAME, then run bab enroll --reenroll with it")
	case len(st.Tunnels) > 0 && !anyUp(st.Tunnels):
		line("", "no tunnel is up: requests are refused; bab doctor checks the network to each exchange")
	}
	switch {
	case st.Policy.Pending:
		line("Policy", "v%d — this appliance WAITS FOR CENTRAL APPROVAL: it is enrolled, but central ops have not yet listed it in the policy, so no request leaves or reaches this office; ask them to approve %s", st.Policy.Version, st.Appliance)
	case st.Policy.OtherKey != "":
		line("Policy", "v%d — the policy lists %s with ANOTHER KEY (%s): this appliance was re-enrolled or replaced since central ops approved it,", st.Policy.Version, st.Appliance, st.Policy.OtherKey)
		line("", "so no request leaves or reaches this office; ask them to approve its key %s (bab-exchange fleet approve, then sign and push);", st.Certificate.KeyHash)
		line("", "if nobody here re-enrolled or replaced it, tell them at once: the policy names another machine for %s", st.Appliance)
	case st.Policy.Problem != "":
		line("Policy", "NO VALID POLICY — %s; the exchange's next push repairs it", st.Policy.Problem)
	case st.Policy.Version == 0:
		line("Policy", "none yet — requests are refused until the exchange sends one")
	case st.Policy.Expired:
		line("Policy", "v%d EXPIRED at %s — %s", st.Policy.Version, st.Policy.Expires.Format(time.RFC3339), st.Policy.Note)
	case st.Policy.Note != "":
		line("Policy", "v%d, WARNING: %s", st.Policy.Version, st.Policy.Note)
	default:
		line("Policy", "v%d, expires %s (in %s)", st.Policy.Version, st.Policy.Expires.Format(time.RFC3339), appliance.PlainDuration(st.Policy.Expires.Sub(now)))
	}
	switch {
	case st.Quarantine != "":
		line("Attestation", "QUARANTINED: %s", st.Quarantine)
		line("", "the exchange refuses this appliance's requests; after a legitimate firmware or kernel update,")
		line("", "central ops accept the new state: bab-exchange appliance rebaseline %s", st.Appliance)
	case st.Certificate.Key != "tpm":
		line("Attestation", "not used: %s key, no TPM", keyName(st.Certificate.Key))
	case st.AttestedAt.IsZero():
		line("Attestation", "no verdict yet (the exchange checks the boot state when a tunnel comes up)")
	default:
		line("Attestation", "ok, last checked %s (%s ago)", st.AttestedAt.Format(time.RFC3339), appliance.PlainDuration(now.Sub(st.AttestedAt)))
	}
	switch left := st.Certificate.NotAfter.Sub(now); {
	case st.Certificate.NotAfter.IsZero():
		line("Certificate", "none loaded")
	case left <= 0:
		line("Certificate", "EXPIRED at %s — renewed as soon as a tunnel is up (for 30 days after expiry; re-enroll after that)", st.Certificate.NotAfter.Format(time.RFC3339))
	default:
		line("Certificate", "valid until %s (in %s), renewed over the tunnel", st.Certificate.NotAfter.Format(time.RFC3339), appliance.PlainDuration(left))
	}
	if st.Certificate.Serial != "" {
		line("", "serial %s", st.Certificate.Serial)
	}
	if st.Certificate.KeyHash != "" {
		line("", "key %s", st.Certificate.KeyHash)
	}
	for _, s := range st.Services {
		line("Provides", "%s", s)
	}
	recent := st.Recent[max(0, len(st.Recent)-statusErrors):]
	if len(recent) == 0 {
		line("Last errors", "none")
	}
	for i, r := range recent {
		label := ""
		if i == 0 {
			label = "Last errors"
		}
		line(label, "%s %s %s%s", r.Time.Format(time.RFC3339), r.Level, r.Message, formatAttrs(r.Attrs))
	}
}

// keyName names a key kind as people write it.
func keyName(kind string) string {
	if kind == string(keys.KindTPM) {
		return "TPM"
	}
	return kind
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// transportName is how status names a tunnel's transport.
func transportName(t tunnel.State) string {
	switch t.Transport {
	case "tcp":
		return "TCP (TLS)"
	case "quic", "":
		return "QUIC"
	}
	return t.Transport
}

func anyUp(ts []tunnel.State) bool {
	for _, t := range ts {
		if t.Connected {
			return true
		}
	}
	return false
}

// anyRevoked reports whether the exchange refused a tunnel because it
// revoked this appliance, and no tunnel is up.
func anyRevoked(ts []tunnel.State) bool {
	if anyUp(ts) {
		return false
	}
	for _, t := range ts {
		if t.Revoked {
			return true
		}
	}
	return false
}

// formatAttrs writes attributes as " key=value", quoting values with spaces.
func formatAttrs(as []appliance.LogAttr) string {
	var b strings.Builder
	for _, a := range as {
		v := a.Value
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
	}
	return b.String()
}

// lanes says how many of an address's connections are up, when it keeps
// more than one.
func lanes(t tunnel.State) string {
	if t.Lanes <= 1 {
		return ""
	}
	return fmt.Sprintf(", %d of %d lanes up", t.LanesUp, t.Lanes)
}
