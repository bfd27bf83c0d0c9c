// Command bab-console is the clerks' desktop console: whether the office
// is connected, once-only lookups of records held by other
// administrations, the office's activity and, for office IT, the
// appliance. On the appliance's server it uses the console socket (for
// members of group bab-console); on a desktop of the office network it
// uses the appliance's console HTTPS address with the certificate it
// received when paired, and asks for a pairing code on first start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2/app"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/ui"
)

const usage = `bab-console — the clerks' desktop console of the Bab exchange

Usage:
  bab-console [flags]    open the console: the office's connection, lookups, activity
  bab-console help       print this help
  bab-console version

The console talks only to its own office's appliance. On the appliance's
server it uses the console socket, which root and members of group
bab-console may open. On a desktop of the office network it uses the
appliance's console address with the certificate it received when it was
paired: office IT runs "bab console pair" on the server and the clerk types
the code into the console when it first starts. The pairing is kept in the
configuration directory (~/.config/bab-console); what the console looks up
is never written to disk.

Run "bab-console -h" for the flags.
`

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli reads the command line and returns the exit status. help, version
// and a mistake are answered without Fyne: they need no display.
func cli(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("bab-console", flag.ContinueOnError)
	flags.SetOutput(stderr)
	socket := flags.String("socket", "/run/bab/console.sock", "the appliance's console socket, used when the console runs on the appliance's server")
	appliance := flags.String("appliance", "", "the appliance's console address to pair with, https://HOST:PORT (a paired console remembers it)")
	language := flags.String("lang", "", "the console's language, fr or en (default: the desktop's)")
	// The default depends on the user, so it is said in words: the man
	// page is made from this listing.
	dir := flags.String("config-dir", "", "where the console keeps its pairing: its key and certificate and the appliance's CA, never what it looks up (default: bab-console in the user's configuration directory, ~/.config or $XDG_CONFIG_HOME)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch rest := flags.Args(); {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == "help":
		fmt.Fprint(stdout, usage)
		return 0
	case len(rest) == 1 && rest[0] == "version":
		fmt.Fprintln(stdout, "bab-console "+ui.Version)
		return 0
	default:
		fmt.Fprintf(stderr, "bab-console: unexpected %q: the console takes flags only, or help or version alone; run bab-console help\n", strings.Join(rest, " "))
		return 2
	}
	if *dir == "" {
		*dir = defaultDir()
	}
	if err := run(*socket, *appliance, *language, *dir); err != nil {
		fmt.Fprintln(stderr, "bab-console:", err)
		return 1
	}
	return 0
}

func defaultDir() string {
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "bab-console")
}

func run(socket, appliance, language, dir string) error {
	if language != "" {
		if err := ui.UseLanguage(language); err != nil {
			return err
		}
	}
	if err := ui.LoadTranslations(); err != nil {
		return err
	}
	if dir == "" {
		return errors.New("no configuration directory: give --config-dir")
	}
	c := ui.New(app.NewWithID("org.babgate.console"))
	api, hint := connect(socket, dir)
	if api != nil {
		c.Connect(api)
	} else {
		name, _ := os.Hostname()
		c.ShowPairing(appliance, name, hint, func(ctx context.Context, addr, code, name string) (ui.Appliance, error) {
			p, err := console.Pair(ctx, addr, code, name, dir)
			if err != nil {
				return nil, err
			}
			return p.Dial()
		})
	}
	c.Window().ShowAndRun()
	return nil
}

// connect finds the appliance: its socket when this account may use it,
// else the appliance this console is paired with. Without either it
// returns a hint for the pairing screen (empty when there is nothing to
// add).
func connect(socket, dir string) (ui.Appliance, string) {
	sc, err := console.DialSocket(socket)
	if err == nil {
		return sc, ""
	}
	var hint string
	if errors.Is(err, fs.ErrPermission) {
		hint = ui.SocketRefusedHint()
	}
	p, err := console.LoadPairing(dir)
	if err == nil {
		c, err := p.Dial()
		if err == nil {
			return c, ""
		}
	}
	if err != nil && !errors.Is(err, console.ErrNotPaired) {
		fmt.Fprintln(os.Stderr, "bab-console:", err)
		hint = ui.PairingUnreadableHint()
	}
	return nil, hint
}
