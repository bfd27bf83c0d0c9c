// Package cli is the bab command: serve runs the appliance, enroll gives
// it its identity, status shows what it is doing. cmd/bab only calls Main.
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
const DefaultConfig = "/etc/bab/bab.yaml"

// ExitError carries a process exit status.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

const usage = `bab — the office appliance of the Bab exchange

Usage:
  bab serve   [--config FILE]                          run the appliance (what the service runs)
  bab enroll  --exchange HOST:PORT --token TOKEN [--name NAME] [--reenroll] [--config FILE]
  bab status  [--config FILE] [--json]                 what the running appliance is doing
  bab doctor  [--config FILE]                          check config, state, enrollment, TPM, DNS, UDP and clock, with fixes
  bab tpm     [--config FILE]                          the TPM in use, and its EK hash for central ops
  bab console pair [--role clerk|office-it]            a one-time code that pairs a clerk's console
  bab console ls | revoke NAME                         the paired consoles; revoke one for good
  bab client token NAME                                a new token for a local system, and its config lines
  bab client cert NAME CERT.pem                        config lines for a system with a client certificate
  bab trace verify-receipt FILE --log-key KEY [--salt HEX] [--body FILE] [--target 'METHOD PATH?QUERY']
                                                       check a receipt of the exchange's trace, offline
  bab trace query [--since 24h] [--until TIME] [--service SERVICE] [-o table|json]
                                                       this member's own requests (as consumer or provider),
                                                       as the exchange's trace holds them
  bab version

The config file defaults to ` + DefaultConfig + `.
status, doctor and trace query ask the running appliance through its control socket
(admin.socket), which root and members of group bab-admin may use.
`

// Main runs the command line and returns the process exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "enroll":
		err = enrollCmd(ctx, args[1:], stdout)
	case "status":
		err = status(ctx, args[1:], stdout)
	case "doctor":
		err = doctor(ctx, args[1:], stdout)
	case "tpm":
		err = tpmCmd(args[1:], stdout)
	case "client":
		err = client(args[1:], stdout)
	case "console":
		err = consoleCmd(ctx, args[1:], stdout)
	case "trace":
		err = traceCmd(ctx, args[1:], stdout)
	case "version":
		fmt.Fprintln(stdout, version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "bab: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ee ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, flag.ErrHelp):
		return 2
	}
	fmt.Fprintf(stderr, "bab %s: %v\n", args[0], err)
	return 1
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("bab "+name, flag.ContinueOnError)
	return fs
}
