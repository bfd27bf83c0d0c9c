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
	"io/fs"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2/app"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/ui"
)

func main() {
	socket := flag.String("socket", "/run/bab/console.sock", "the appliance's console socket, used when the console runs on the appliance's server")
	appliance := flag.String("appliance", "", "the appliance's console address to pair with, https://HOST:PORT (a paired console remembers it)")
	language := flag.String("lang", "", "the console's language, fr or en (default: the desktop's)")
	dir := flag.String("config-dir", defaultDir(), "where the console keeps its pairing: its key and certificate and the appliance's CA, never what it looks up")
	flag.Parse()
	if err := run(*socket, *appliance, *language, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bab-console:", err)
		os.Exit(1)
	}
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
