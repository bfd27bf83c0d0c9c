// Command lab starts the embedded default federation on loopback — an
// exchange, a commune's appliance that consumes, the civil registry's
// appliance that provides and a sample backend — and prints requests to
// try. Run it from the source tree: go run ./scripts/lab
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/babgate/bab/internal/lab"
)

func main() {
	dir := flag.String("dir", "", "working directory (default: a new temporary one, removed on exit)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "bab-lab-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Println("Building bab and bab-exchange and starting the lab federation…")
	l, err := lab.Start(ctx, lab.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer l.Close()
	base := l.Consumer.GatewayURL + "/" + lab.CivilStatus.String()
	auth := "Authorization: Bearer " + l.Consumer.Token
	fmt.Printf(`
The lab federation is up:
  exchange        %s (UDP)   ops socket %s
  %-15s gateway %s   metrics %s   control %s
  %-15s gateway %s   metrics %s   control %s   backend %s

The commune's complaint desk asks the civil registry for a citizen's record:
  curl -s -H '%s' %s/citizens/42

A body streams through and comes back byte for byte:
  echo 'hello through Bab' | curl -s -H '%s' --data-binary @- %s/echo

The policy refuses what it does not allow (403, problem+json):
  curl -s -H '%s' -X DELETE %s/citizens/42

Without the system's token the gateway refuses (401):
  curl -s %s/citizens/42

What the appliances and the exchange say:
  %s status --config %s
  %s fleet ls --config %s
  %s trace --config %s
  %s doctor --config %s

Monitoring (Prometheus metrics, readiness):
  curl -s %s/metrics | grep '^bab_'
  curl -s %s/readyz

The clerks' console (a desktop; needs a display, and the first build
compiles Fyne for a few minutes), on the commune's server as office IT:
  go run ./cmd/bab-console --socket %s
or paired from another desktop over HTTPS, with a code from:
  %s console pair --config %s
  go run ./cmd/bab-console --appliance %s --config-dir %s

Logs are in %s. Press Ctrl-C to stop.
`,
		l.Exchange.Addr, l.Exchange.Socket,
		lab.CommuneHQ, l.Consumer.GatewayURL, l.Consumer.AdminURL, l.Consumer.Socket,
		lab.RegistryDC, l.Provider.GatewayURL, l.Provider.AdminURL, l.Provider.Socket, l.Backend.URL,
		auth, base, auth, base, auth, base, base,
		filepath.Join(l.Bin, "bab"), l.Consumer.Config,
		filepath.Join(l.Bin, "bab-exchange"), l.Exchange.Config,
		filepath.Join(l.Bin, "bab-exchange"), l.Exchange.Config,
		filepath.Join(l.Bin, "bab"), l.Consumer.Config,
		l.Consumer.AdminURL, l.Exchange.AdminURL,
		l.Consumer.ConsoleSocket, filepath.Join(l.Bin, "bab"), l.Consumer.Config, l.Consumer.ConsoleURL, filepath.Join(dir, "desk"),
		dir)
	<-ctx.Done()
	fmt.Println("\nStopping the lab…")
	return nil
}
