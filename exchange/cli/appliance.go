package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/babgate/bab/exchange"
)

// applianceCmd is "fleet show ID" and "appliance rebaseline ID".
func applianceCmd(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	fs := newFlags(map[string]string{"show": "fleet show", "rebaseline": "appliance rebaseline", "revoke": "appliance revoke"}[sub])
	cfgPath := fs.String("config", DefaultConfig, "config file")
	output := fs.String("o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("give the appliance, e.g. MA/MUN/RABAT:hq")
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var d exchange.ApplianceDetail
	switch sub {
	case "rebaseline", "revoke":
		err = c.do(ctx, "POST", "/v1/"+sub+"/"+fs.Arg(0), nil, &d)
	default:
		err = c.do(ctx, "GET", "/v1/appliances/"+fs.Arg(0), nil, &d)
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	switch sub {
	case "rebaseline":
		fmt.Fprintf(stdout, "Accepted the last verified boot state of %s as its baseline; it is checked again now.\n\n", d.ID)
	case "revoke":
		fmt.Fprintf(stdout, "Revoked %s: its tunnels are closed and it cannot connect until it is enrolled again.\n\n", d.ID)
	}
	printDetail(stdout, &d)
	return nil
}

func printDetail(w io.Writer, d *exchange.ApplianceDetail) {
	conn := "no"
	if d.Connected {
		conn = fmt.Sprintf("yes, %d tunnel(s), since %s", d.Tunnels, d.Since.Format(time.RFC3339))
	}
	if d.Revoked { // a revoked appliance's last tunnel may still be closing
		conn = "REVOKED"
	}
	fmt.Fprintf(w, "Appliance     %s (member %s)\n", d.ID, d.Member)
	fmt.Fprintf(w, "Enrolled      %s with a %s key\n", d.EnrolledAt.Format(time.RFC3339), d.KeyKind)
	fmt.Fprintf(w, "Connected     %s\n", conn)
	fmt.Fprintf(w, "Policy        v%d\n", d.PolicyVersion)
	switch d.Attestation {
	case "quarantined":
		fmt.Fprintf(w, "Attestation   QUARANTINED since %s: %s\n", d.QuarantinedAt.Format(time.RFC3339), d.QuarantineReason)
	case "ok":
		fmt.Fprintf(w, "Attestation   ok, last checked %s (%s)\n", d.LastAttested.Format(time.RFC3339), d.AttestRTT.Round(10*time.Microsecond))
	default:
		fmt.Fprintf(w, "Attestation   %s\n", d.Attestation)
	}
	if d.EKHash != "" {
		fmt.Fprintf(w, "EK hash       %s\n", d.EKHash)
	}
	for _, p := range d.PCRs {
		mark := ""
		if slices.Contains(d.Differ, p) {
			mark = "   <- differs"
		}
		fmt.Fprintf(w, "PCR %-2d        baseline %s  last %s%s\n", p, short(d.Baseline[p]), short(d.LastPCRs[p]), mark)
	}
	if len(d.Differ) > 0 {
		fmt.Fprintf(w, "\nIf the change is a legitimate update, accept it: bab-exchange appliance rebaseline %s\n", d.ID)
	}
}

func short(b []byte) string {
	if b == nil {
		return "-"
	}
	h := hex.EncodeToString(b)
	if len(h) > 16 {
		h = h[:16] + "…"
	}
	return h
}
