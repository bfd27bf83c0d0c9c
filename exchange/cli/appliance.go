package cli

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
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
		return printJSON(stdout, d)
	}
	switch sub {
	case "rebaseline":
		fmt.Fprintf(stdout, "Accepted the last verified boot state of %s as its baseline; it is checked again now.\n\n", d.ID)
	case "revoke":
		id, _ := ident.ParseAppliance(d.ID)
		fmt.Fprintf(stdout, "Revoked %s: its tunnels are closed, and its key and certificates are refused for good.\n", d.ID)
		fmt.Fprintf(stdout, "To enroll a new appliance in its place: bab-exchange token create --member %s --replace %s\n\n", id.Member, id.Name)
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
	printIdentity(w, d)
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

// printIdentity shows the registered key and certificate, each live tunnel
// with the certificate it presented, and what the deny list holds for the
// name.
func printIdentity(w io.Writer, d *exchange.ApplianceDetail) {
	if d.Revoked {
		fmt.Fprintf(w, "Revoked       %s, for good\n", d.RevokedAt.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "Key           %s\n", cmp.Or(d.KeyHash, "not recorded yet (registered before keys were; recorded at its next connection)"))
	switch {
	case d.KeyMismatch:
		fmt.Fprintf(w, "Policy key    %s: ANOTHER KEY. The policy binds the name to the key of the machine ops approved; this one was\n"+
			"              enrolled since (re-enrolled or replaced) and may not call or be called until a policy lists its key\n"+
			"              (bab-exchange fleet approve --source SOURCE.yaml, then sign and push), or revoke it if you did not approve it\n", d.PolicyKey)
	case d.PolicyKey != "":
		fmt.Fprintf(w, "Policy key    the same\n")
	case !d.Revoked:
		fmt.Fprintf(w, "Policy key    none: the policy does not list it (pending approval)\n")
	}
	fmt.Fprintf(w, "Certificate   serial %s, expires %s\n", d.CertSerial, d.CertExpiry.Format(time.RFC3339))
	for _, t := range d.Live {
		fmt.Fprintf(w, "Tunnel        from %s since %s, certificate %s\n", t.Remote, t.Since.Format(time.RFC3339), t.CertSerial)
	}
	for _, dn := range d.Denied {
		fmt.Fprintf(w, "Denied        %s %s: %s on %s\n", dn.What, dn.Value, dn.Reason, dn.At.Format(time.RFC3339))
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
