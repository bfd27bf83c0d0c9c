package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/internal/cliargs"
	"github.com/babgate/bab/tracelog"
)

// traceQuery is "bab trace query": this office's member's own
// transactions, as the exchange's trace log holds them (the requests
// where one of its appliances was the consumer or the provider), asked of
// the exchange through the running appliance.
func traceQuery(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace query")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	since := fs.String("since", "24h", "requests since: a duration back from now (24h, 7d) or a time (2026-11-30, RFC 3339)")
	until := fs.String("until", "", "requests before: a duration back from now or a time; default now")
	service := fs.String("service", "", "only the requests for this service")
	from := fs.Int64("from", 0, "start at this record of the log (what a truncated listing says)")
	most := fs.Int("max", 10000, "print at most this many records, then say where to go on")
	output := fs.String("o", "table", "output: table or json")
	rest, err := cliargs.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || (*output != "table" && *output != "json") || *most < 1 {
		return errors.New("usage: bab trace query [--since 24h] [--until TIME] [--service SERVICE] [--from N] [--max N] [-o table|json]")
	}
	now := time.Now()
	q := url.Values{}
	if err := cliargs.SetWindow(q, *since, *until, now); err != nil {
		return err
	}
	if *service != "" {
		q.Set("service", *service)
	}
	cfg, err := controlConfig(*cfgPath)
	if err != nil {
		return err
	}
	c := newControl(cfg.Admin)
	st, err := fetchStatus(ctx, cfg.Admin, 10*time.Second)
	if err != nil {
		return err
	}
	var recs []tracelog.TraceRecord
	next := *from
	for {
		q.Set("from", strconv.FormatInt(next, 10))
		q.Set("limit", strconv.Itoa(min(tracelog.MaxTracePage, *most-len(recs))))
		var page tracelog.TraceRecords
		if err := c.call(ctx, "GET", "/v1/trace/query?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		recs = append(recs, page.Records...)
		next = page.Next
		if next == 0 || len(recs) >= *most {
			break
		}
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Member  string                 `json:"member"`
			Records []tracelog.TraceRecord `json:"records"`
			Next    int64                  `json:"next,omitempty"`
		}{st.Member, append([]tracelog.TraceRecord{}, recs...), next})
	}
	printMemberRecords(stdout, st.Member, recs)
	if next != 0 {
		fmt.Fprintf(stdout, "\nThere are more: go on with --from %d.\n", next)
	}
	return nil
}

// printMemberRecords lists records as a table, each with the member's
// part in it: it consumed, provided, or both.
func printMemberRecords(w io.Writer, member string, recs []tracelog.TraceRecord) {
	if len(recs) == 0 {
		fmt.Fprintf(w, "The exchange's trace holds no request of %s in that time.\n", member)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tRECORD\tID\tAS\tCONSUMER\tPROVIDER\tSERVICE\tMETHOD\tPURPOSE\tOUTCOME\tSTATUS\tDURATION")
	for _, r := range recs {
		var as []string
		if m, _, _ := strings.Cut(r.Consumer, ":"); m == member {
			as = append(as, "consumer")
		}
		if m, _, _ := strings.Cut(r.Provider, ":"); m == member {
			as = append(as, "provider")
		}
		consumer := r.Consumer
		if r.ConsumerSystem != "" {
			consumer += "/" + r.ConsumerSystem
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.At.Local().Format(time.RFC3339), r.Index, r.ID,
			strings.Join(as, "+"), consumer, dash(r.Provider), r.Service, r.Method, dash(r.Purpose), r.Outcome, r.Status, r.Duration.Round(time.Microsecond))
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
