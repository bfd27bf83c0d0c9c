package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/exchange"
)

func fleetLs(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("fleet ls")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	output := fs.String("o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	list, err := fleetList(ctx, *cfgPath)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "APPLIANCE\tCONNECTED\tPOLICY\tATTESTATION\tSOFTWARE\tREQUESTS\tCERT EXPIRES")
	pending, otherKey := 0, 0
	for _, a := range list {
		conn := "no"
		if !a.LastSeen.IsZero() {
			conn = "no, last seen " + a.LastSeen.Format(time.RFC3339)
		}
		if a.Connected {
			conn = fmt.Sprintf("yes (%d)", a.Tunnels)
		}
		if a.Revoked { // its last tunnel may still be closing
			conn = "REVOKED"
		}
		if a.Pending {
			conn += ", PENDING approval"
			pending++
		}
		if a.KeyMismatch {
			conn += ", KEY NOT IN POLICY"
			otherKey++
		}
		fmt.Fprintf(tw, "%s\t%s\tv%d\t%s\t%s\t%d\t%s\n", a.ID, conn, a.PolicyVersion, a.Attestation, a.Software, a.Requests, a.CertExpiry.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if pending > 0 {
		fmt.Fprintf(stdout, "\n%d enrolled appliance(s) PENDING approval: the policy does not list them, so they may not call or be called.\n"+
			"Approve them with: bab-exchange fleet approve --source POLICY.yaml, then policy sign and policy push.\n", pending)
	}
	if otherKey > 0 {
		fmt.Fprintf(stdout, "\n%d appliance(s) with a KEY NOT IN POLICY: the policy lists their names with another key (they were re-enrolled\n"+
			"or replaced since ops approved them), so they may not call or be called. If you approved the new machine:\n"+
			"bab-exchange fleet approve --source POLICY.yaml, then policy sign and policy push. If not, revoke it.\n", otherKey)
	}
	return printLive(stdout, list)
}

// printLive lists every live tunnel with the certificate it presented, so
// that ops see which identity is connected, not only that one is.
func printLive(w io.Writer, list []exchange.ApplianceView) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "LIVE TUNNEL\tFROM\tUP SINCE\tCERTIFICATE SERIAL")
	n := 0
	for _, a := range list {
		for _, t := range a.Live {
			n++
			mark := ""
			if t.CertSerial != a.CertSerial {
				mark = " (the one before the last renewal)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", a.ID, t.Remote, t.Since.Format(time.RFC3339), t.CertSerial, mark)
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "none\t\t\t")
	}
	return tw.Flush()
}

// printJSON prints v indented, for -o json and --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// outputJSON reads the -o flag.
func outputJSON(o string) (bool, error) {
	switch o {
	case "table":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("-o %q: use table or json", o)
}

// fleetList asks the running exchange for the fleet.
func fleetList(ctx context.Context, cfgPath string) ([]exchange.ApplianceView, error) {
	c, err := newAdmin(cfgPath)
	if err != nil {
		return nil, err
	}
	var list []exchange.ApplianceView
	if err := c.do(ctx, "GET", "/v1/appliances", nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}
