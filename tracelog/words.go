package tracelog

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Describe writes r in words: one sentence, then each field on its line.
// Fields that come from outside are quoted, so that no byte of a record
// can pass for something else on a terminal.
func (r *Record) Describe(w io.Writer) error {
	consumer := q(r.Consumer)
	if m, _, ok := strings.Cut(r.Consumer, ":"); ok {
		consumer += " of member " + q(m)
	}
	system, provider, purpose, status := "", "", "", ""
	if r.ConsumerSystem != "" {
		system = " (system " + q(r.ConsumerSystem) + ")"
	}
	if r.Provider != "" {
		provider = ", served by " + q(r.Provider)
	}
	if r.Purpose != "" {
		purpose = " for the purpose " + q(r.Purpose)
	}
	if r.Status != 0 {
		status = fmt.Sprintf(" (status %d)", r.Status)
	}
	fmt.Fprintf(w, "On %s, the appliance %s%s called %s on the service %s%s%s. Outcome: %s%s; %d bytes sent, %d bytes answered, %s at the exchange.\n\n",
		r.At.UTC().Format("2006-01-02 at 15:04:05.000 UTC"), consumer, system, q(r.Method), q(r.Service), purpose, provider,
		q(r.Outcome), status, r.RequestBytes, r.ResponseBytes, r.Duration.Round(time.Microsecond))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("Request id", q(r.ID))
	row("Time", r.At.UTC().Format(time.RFC3339Nano))
	row("Consumer", q(r.Consumer))
	row("Consumer system", orNone(r.ConsumerSystem))
	row("Provider", orNone(r.Provider))
	row("Service", q(r.Service))
	row("Method", q(r.Method))
	row("Purpose", orNone(r.Purpose))
	row("Outcome", q(r.Outcome)+status)
	row("Bytes sent / answered", fmt.Sprintf("%d / %d", r.RequestBytes, r.ResponseBytes))
	row("Duration", r.Duration.String())
	for _, d := range []struct {
		name string
		d    Digest
	}{
		{"Consumer evidence", r.ConsumerEvidence}, {"Consumer batch", r.ConsumerBatch},
		{"Provider evidence", r.ProviderEvidence}, {"Provider batch", r.ProviderBatch},
		{"Subject (keyed hash)", r.SubjectHash},
		{"Request body SHA-256", r.RequestBodyDigest}, {"Response body SHA-256", r.ResponseBodyDigest},
	} {
		if !d.d.IsZero() {
			row(d.name, d.d.String())
		}
	}
	if r.SubjectKey != 0 {
		row("Subject key", fmt.Sprint(r.SubjectKey))
	}
	if !r.ConfidentialUntil.IsZero() {
		row("Confidential until", r.ConfidentialUntil.UTC().Format(time.RFC3339)+" (held back from subject reports until then)")
	}
	for _, f := range r.Unknown {
		row(fmt.Sprintf("Field %d", f.Tag), fmt.Sprintf("%d bytes (a field of a newer version)", len(f.Value)))
	}
	return tw.Flush()
}

// q quotes s only when it holds something other than printable ASCII
// without spaces, so that identifiers read as they are.
func q(s string) string {
	for _, c := range s {
		if c <= ' ' || c > '~' || c == '"' {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return q(s)
}
