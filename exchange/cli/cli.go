// Package cli is the bab-exchange command: serve runs the exchange; token,
// policy, fleet, appliance, trace and audit are the ops commands, which talk to the
// running exchange over its admin socket. cmd/bab-exchange only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// DefaultConfig is where the packaged config lives.
const DefaultConfig = "/etc/bab-exchange/bab-exchange.yaml"

const usage = `bab-exchange — the central exchange of Bab

Usage:
  bab-exchange serve [--config FILE]
  bab-exchange token create --member MEMBER [--name NAME | --replace NAME] [--ttl 24h]
                                                     --replace: a new appliance in place of an enrolled one
  bab-exchange policy keygen --out PREFIX            write PREFIX.key (keep offline) and PREFIX.pub
  bab-exchange policy fingerprint [--threshold N] KEY.pub…
                                                     the ops keys' fingerprint, the last part of enrollment tokens
  bab-exchange policy check SOURCE.yaml              validate; fill and compare the appliances' keys with the registry;
                                                     show what it changes against the current policy
  bab-exchange policy sign --key FILE [--key FILE…] [--registry FLEET.json] [--out FILE] SOURCE.yaml
                                                     --registry: fill the keys the source leaves out from what
                                                     fleet ls -o json printed (the ops keys stay offline)
  bab-exchange policy cosign --key FILE BUNDLE       add another operator's signature (threshold signing)
  bab-exchange policy push [--stage member:M|appliance:A|percent:N] BUNDLE
                                                     verify, store and send (to a stage first)
  bab-exchange policy rollout status | promote | abort ROLLBACK-BUNDLE
  bab-exchange policy show
  bab-exchange fleet ls [-o table|json]              every appliance: connected, policy applied, attestation;
                                                     every live tunnel with its certificate serial
  bab-exchange fleet approve --source SOURCE.yaml [APPLIANCE…]
                                                     write pending appliances, and new keys of re-enrolled ones,
                                                     with their keys into the source; then sign and push
  bab-exchange fleet show APPLIANCE [-o table|json]  one appliance: key, certificate, tunnels, deny list,
                                                     attestation, boot state, baseline
  bab-exchange appliance rebaseline APPLIANCE        accept its last verified boot state (after an update)
  bab-exchange appliance revoke APPLIANCE            take it out for good (a token made with --replace enrolls another in its place)
  bab-exchange trace [--limit N] [--json]            the newest records of the trace log (no path, no identifier)
  bab-exchange trace verify [--log-key KEY] [--state-dir DIR]
                                                     check the whole trace log: records, tree, signed checkpoints
  bab-exchange trace receipt REQUEST-ID [--index N] [-o FILE]
                                                     a receipt of one record, checkable offline with bab trace verify-receipt
  bab-exchange trace key                             the trace log's public key, to check checkpoints and receipts
  bab-exchange trace subject --id SCHEME:ID [--include-confidential] [-o table|json]
                                                     who consulted a person's data: every request about them
                                                     (ops only, audited; --id - reads it from standard input)
  bab-exchange trace subject-key rotate | ls         start a new subject key (the older ones stay for reports); list them
  bab-exchange trace subject-key forget --yes        the subject key file is lost for good: give up its keys (exchange stopped)
  bab-exchange trace query --member MEMBER [--since 24h] [--service SERVICE] [-o table|json]
                                                     one member's requests, as consumer or provider
  bab-exchange audit ls [--limit N] [-o table|json] who changed what on the exchange, when, and the outcome
  bab-exchange version

Ops commands read --config (default ` + DefaultConfig + `) to find the admin socket.
Root and group bab-exchange may run them all; the read-only group (admin_readonly_group,
bab-exchange-ro by default) may run those that only read: fleet ls and show, policy show
and check, policy rollout status, trace (and its verify, receipt, key, query and
subject-key ls), audit ls; subject reports are for root and group bab-exchange only.
trace verify, receipt and key read the state file directly when the exchange is stopped
(as root or the exchange's user), or the one in --state-dir.
`

// Main runs the command line and returns the process exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	if (cmd == "token" || cmd == "policy" || cmd == "appliance" || cmd == "fleet" || cmd == "audit") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if cmd == "trace" && len(rest) > 0 && (rest[0] == "verify" || rest[0] == "receipt" || rest[0] == "key" ||
		rest[0] == "subject" || rest[0] == "subject-key" || rest[0] == "query") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, rest, stderr)
	case "token create":
		err = tokenCreate(ctx, rest, stdout)
	case "policy keygen":
		err = policyKeygen(rest, stdout)
	case "policy sign":
		err = policySign(rest, stdout, stderr)
	case "policy fingerprint":
		err = policyFingerprint(rest, stdout)
	case "policy rollout":
		err = policyRollout(ctx, rest, stdout)
	case "policy check":
		err = policyCheck(ctx, rest, stdout)
	case "policy cosign":
		err = policyCosign(rest, stdout)
	case "policy push":
		err = policyPush(ctx, rest, stdout)
	case "policy show":
		err = policyShow(ctx, rest, stdout)
	case "fleet show":
		err = applianceCmd(ctx, "show", rest, stdout)
	case "appliance rebaseline":
		err = applianceCmd(ctx, "rebaseline", rest, stdout)
	case "appliance revoke":
		err = applianceCmd(ctx, "revoke", rest, stdout)
	case "fleet ls":
		err = fleetLs(ctx, rest, stdout)
	case "fleet approve":
		err = fleetApprove(ctx, rest, stdout)
	case "trace":
		err = traceList(ctx, rest, stdout)
	case "trace verify":
		err = traceVerify(ctx, rest, stdout)
	case "trace receipt":
		err = traceReceipt(ctx, rest, stdout)
	case "trace key":
		err = traceKey(ctx, rest, stdout)
	case "trace subject":
		err = traceSubject(ctx, rest, os.Stdin, stdout)
	case "trace subject-key":
		err = traceSubjectKey(ctx, rest, stdout)
	case "trace query":
		err = traceMemberQuery(ctx, rest, stdout)
	case "audit ls":
		err = auditLs(ctx, rest, stdout)
	case "version":
		fmt.Fprintln(stdout, "bab-exchange "+versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "bab-exchange: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 2
	}
	fmt.Fprintf(stderr, "bab-exchange %s: %v\n", cmd, err)
	return 1
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("bab-exchange "+name, flag.ContinueOnError)
}
