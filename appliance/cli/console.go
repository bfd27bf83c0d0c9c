package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/console"
)

// consoleCmd is bab console pair | ls | revoke: office IT on the server
// pair the clerks' consoles, list them and revoke them, through the
// control socket.
func consoleCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: bab console pair [--role clerk|office-it] | ls | revoke NAME")
	}
	fs := newFlags("console " + args[0])
	cfgPath := fs.String("config", DefaultConfig, "config file")
	role := fs.String("role", string(console.RoleClerk), "pair: the console's role, clerk or office-it")
	valid := fs.Duration("valid", 10*time.Minute, "pair: how long the code may be used, at most 1h")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := controlConfig(*cfgPath)
	if err != nil {
		return err
	}
	c := newControl(cfg.Admin)
	switch args[0] {
	case "pair":
		var out struct {
			Code    string    `json:"code"`
			Expires time.Time `json:"expires"`
			Listen  string    `json:"listen"`
		}
		if err := c.call(ctx, "POST", "/v1/consoles/code", map[string]any{"role": *role, "valid_s": valid.Seconds()}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Pairing code for a %s console: %s\nValid once, until %s. Type it into the console", *role, out.Code, out.Expires.Local().Format("15:04"))
		if out.Listen != "" {
			fmt.Fprintf(stdout, ", with the appliance's address https://%s", out.Listen)
		}
		fmt.Fprintln(stdout, ".")
		return nil
	case "ls":
		var list []console.Paired
		if err := c.call(ctx, "GET", "/v1/consoles", nil, &list); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CONSOLE\tROLE\tPAIRED\tSTATE")
		for _, p := range list {
			state := "paired"
			if p.Revoked {
				state = "REVOKED"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Role, p.PairedAt.Local().Format(time.RFC3339), state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("usage: bab console revoke NAME")
		}
		if err := c.call(ctx, "POST", "/v1/consoles/revoke", console.RevokeRequest{Name: fs.Arg(0)}, &map[string]string{}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Revoked console %s: it is refused from its next request on.\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("bab console %s: unknown; use pair, ls or revoke", args[0])
}
