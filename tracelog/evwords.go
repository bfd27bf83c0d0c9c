package tracelog

import (
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/evidence"
)

// DescribeEvidence writes the evidence a receipt proved, in words: each
// appliance's entry, its batch and key, then whether the two agree.
func (v *Verified) DescribeEvidence(w io.Writer) error {
	if len(v.Evidence) == 0 {
		_, err := fmt.Fprintln(w, "\nThe receipt carries no evidence of the appliances: the log has none of this request (they sent none yet, or an older exchange logged it).")
		return err
	}
	fmt.Fprintf(w, "\nEvidence of the request signed by the appliances, each in a batch that is in the same tree:\n")
	for _, e := range v.Evidence {
		says := "sent this request and received this answer"
		if e.Entry.Side == evidence.Provider {
			says = "received this request and sent this answer"
		}
		fmt.Fprintf(w, "\nThe %s %s says it %s:\n", e.Entry.Side, q(e.Entry.Speaker()), says)
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		row := func(k, val string) { fmt.Fprintf(tw, "  %s\t%s\n", k, val) }
		dropped := "none dropped before it"
		if e.Batch.Dropped > 0 {
			dropped = fmt.Sprintf("%d entries dropped before it (the appliance could not keep them)", e.Batch.Dropped)
		}
		row("Batch", fmt.Sprintf("number %d of its key, entry %d of %d; %s; record %d of the log, logged %s", e.Batch.Number, e.Position, e.Batch.Count,
			dropped, e.BatchIndex, e.LoggedAt.Format(time.RFC3339)))
		row("Signing key", fmt.Sprintf("certified by the appliance key %s, valid %s to %s; the exchange found that key bound to %s by policy v%d",
			e.Cert.KeyHash(), e.Cert.NotBefore.Format(time.RFC3339), e.Cert.NotAfter.Format(time.RFC3339), q(e.Cert.Appliance), e.Policy))
		row("Session", fmt.Sprintf("%s, request %d", hex.EncodeToString(e.Entry.Session[:]), e.Entry.Seq))
		row("At", e.Entry.At.Format(time.RFC3339Nano)+" (its clock)")
		for _, d := range entryDigests(&e.Entry) {
			row(d.name, orAbsent(d.d, d.absent))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nThe digests are HMAC-SHA-256 keyed with the request's salt (Bab-Evidence-Salt, which the caller and the backend got); with it, --body FILE and --target 'METHOD PATH?QUERY' check a body and what was asked.\n")
	_, err := fmt.Fprintln(w, v.Agreement())
	return err
}

type namedDigest struct {
	name, absent string
	d            evidence.Digest
}

func entryDigests(e *evidence.Entry) []namedDigest {
	return []namedDigest{
		{"Target", "none", e.Target},
		{"Request head", "none", e.RequestHead},
		{"Request body", "none whole", e.RequestBody},
		{"Answer head", "no answer", e.ResponseHead},
		{"Answer body", "none whole", e.ResponseBody},
	}
}

func orAbsent(d evidence.Digest, absent string) string {
	if d.IsZero() {
		return "(" + absent + ")"
	}
	return d.String()
}

// Agreement says whether the consumer's and the provider's entries of the
// same session and request number hold the same digests.
func (v *Verified) Agreement() string {
	var c, p *Evidence
	for i := range v.Evidence {
		e := &v.Evidence[i]
		switch {
		case e.Entry.Side == evidence.Consumer:
			c = e
		case e.Entry.Side == evidence.Provider:
			p = e
		}
	}
	switch {
	case c == nil:
		return "Only the provider's evidence is in the log."
	case p == nil:
		return "Only the consumer's evidence is in the log (the provider did not answer this request, or its evidence is not logged yet)."
	case c.Entry.Session != p.Entry.Session || c.Entry.Seq != p.Entry.Seq:
		return "The two appliances' entries are of different sessions or request numbers."
	}
	var differ []string
	cd, pd := entryDigests(&c.Entry), entryDigests(&p.Entry)
	for i := range cd {
		if cd[i].d != pd[i].d {
			differ = append(differ, cd[i].name)
		}
	}
	if len(differ) == 0 {
		return "Both appliances' evidence agrees: the same request and the same answer, digest for digest."
	}
	return fmt.Sprintf("The two appliances' evidence DIFFERS on: %v (a digest absent on one side means that side did not see it whole).", differ)
}
