package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/cliargs"
	"github.com/babgate/bab/tracelog"
)

func traceList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	limit := fs.Int("limit", 20, "how many of the newest records")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var list []store.LoggedEntry
	if err := c.do(ctx, "GET", "/v1/trace?limit="+strconv.Itoa(*limit), nil, &list); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tRECORD\tID\tCONSUMER\tSERVICE\tMETHOD\tPURPOSE\tOUTCOME\tSTATUS\tBYTES IN/OUT\tDURATION")
	for _, e := range list {
		purpose := e.Purpose
		if purpose == "" {
			purpose = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%d\t%d/%d\t%s\n", e.At.Format(time.RFC3339), e.Index, e.ID, e.Consumer, e.ConsumerSystem,
			e.Service, e.Method, purpose, e.Outcome, e.Status, e.RequestBytes, e.ResponseBytes, e.Duration.Round(time.Microsecond))
	}
	return tw.Flush()
}

// errLogFails is the error of a trace verify that found problems.
var errLogFails = errors.New("the trace log does not verify")

// traceSource reaches the trace: through the running exchange's admin
// socket, or, when no exchange answers there (it is stopped) or
// --state-dir names one, by reading the state file itself.
type traceSource struct {
	admin    *adminClient
	stateDir string
	direct   bool // --state-dir given: the file only
}

func newTraceSource(cfgPath, stateDir string) (*traceSource, error) {
	if stateDir != "" {
		return &traceSource{stateDir: stateDir, direct: true}, nil
	}
	cfg, err := opsConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	return &traceSource{admin: adminFor(cfg), stateDir: cfg.StateDir}, nil
}

// do runs viaSocket, or viaFile on the state file opened read-only when
// the exchange does not run.
func (t *traceSource) do(viaSocket func(*adminClient) error, viaFile func(*store.Store) error) error {
	if !t.direct {
		err := viaSocket(t.admin)
		if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	s, err := store.OpenReadOnly(t.stateDir)
	if err != nil {
		if t.direct {
			return err
		}
		return fmt.Errorf("the exchange does not answer on %s, and its state file cannot be read (the exchange's user and root may read it): %w", t.admin.socket, err)
	}
	defer s.Close()
	return viaFile(s)
}

func traceVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace verify")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	stateDir := fs.String("state-dir", "", "check the state file in this directory (a stopped exchange's, or a copy) rather than ask the running exchange")
	logKey := fs.String("log-key", "", "check with this log key (ORIGIN+HASH+KEY, as trace key prints it, or a file holding it) rather than the one in the state file")
	output := fs.String("o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	key := ""
	if *logKey != "" {
		if key, err = tracelog.LoadKey(*logKey); err != nil {
			return err
		}
	}
	src, err := newTraceSource(*cfgPath, *stateDir)
	if err != nil {
		return err
	}
	var rep *store.TraceReport
	err = src.do(func(c *adminClient) error {
		c.http.Timeout = 0 // a large log takes its time; ctx still ends it
		rep = &store.TraceReport{}
		return c.do(ctx, "GET", "/v1/trace/verify?log_key="+url.QueryEscape(key), nil, rep)
	}, func(s *store.Store) error {
		if key == "" {
			rep, err = s.VerifyTrace(nil)
			return err
		}
		v, err := tracelog.NewVerifier(key)
		if err != nil {
			return err
		}
		rep, err = s.VerifyTrace(v)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%w: %d problem(s), the first: %s", errLogFails, len(rep.Problems)+rep.More, problemText(rep.Problems[0]))
	}
	return nil
}

func printReport(w io.Writer, rep *store.TraceReport) {
	origin := rep.Origin
	if origin == "" {
		origin = "(no key)"
	}
	fmt.Fprintf(w, "Trace log %s: %d records", origin, rep.Size)
	if rep.Pruned > 0 {
		fmt.Fprintf(w, ", of which %d were pruned after the retention period (their hashes stay in the tree and were checked)", rep.Pruned)
	}
	fmt.Fprintf(w, ".\nChecked: %d record(s), of which %d are the appliances' evidence batches (%d entries), %d stored hash(es), %d checkpoint(s); the newest valid checkpoint covers %d records.\n",
		rep.Records, rep.Batches, rep.Entries, rep.Hashes, rep.Checkpoints, rep.Checkpointed)
	if len(rep.Problems) == 0 {
		fmt.Fprintln(w, "OK: every record kept is in the tree, every evidence batch is signed by a key its appliance key certified and holds the entries kept for it, every stored hash is its children's, and every checkpoint is signed with the log key, holds the tree's root and is consistent with the one before it and with the tree.")
		return
	}
	fmt.Fprintf(w, "FAILED: %d problem(s), in log order:\n", len(rep.Problems)+rep.More)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", problemText(p))
	}
	if rep.More > 0 {
		fmt.Fprintf(w, "  … and %d more\n", rep.More)
	}
}

func problemText(p store.TraceProblem) string {
	switch p.Kind {
	case "record":
		if p.RequestID != "" {
			return fmt.Sprintf("record %d (request id %s) %s", p.Index, strconv.Quote(p.RequestID), p.Problem)
		}
		return fmt.Sprintf("record %d %s", p.Index, p.Problem)
	case "checkpoint":
		return fmt.Sprintf("checkpoint of %d records %s", p.Index, p.Problem)
	}
	return p.Problem
}

func traceReceipt(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace receipt")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	stateDir := fs.String("state-dir", "", "read the state file in this directory rather than ask the running exchange")
	index := fs.Int64("index", -1, "the record's number, when several records have the request id (or to name one without it)")
	out := fs.String("o", "", "write the receipt to this file (a .tlog-proof) rather than to standard output")
	rest, err := cliargs.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 || (len(rest) == 0 && *index < 0) {
		return errors.New("give the request id (the Bab-Request-Id the caller got), or --index N")
	}
	id := ""
	if len(rest) == 1 {
		id = rest[0]
	}
	src, err := newTraceSource(*cfgPath, *stateDir)
	if err != nil {
		return err
	}
	var raw []byte
	var key exchange.TraceKey
	err = src.do(func(c *adminClient) error {
		q := url.Values{"id": {id}}
		if *index >= 0 {
			q.Set("index", strconv.FormatInt(*index, 10))
		}
		if err := c.do(ctx, "GET", "/v1/trace/key", nil, &key); err != nil {
			return err
		}
		return c.do(ctx, "GET", "/v1/trace/receipt?"+q.Encode(), nil, &raw)
	}, func(s *store.Store) error {
		r, err := s.TraceReceipt(id, *index)
		if err != nil {
			return err
		}
		raw = r.Marshal()
		_, key.Key, err = s.TraceLogKey()
		return err
	})
	if err != nil {
		return err
	}
	// The receipt is checked before it is given out.
	v, err := tracelog.NewVerifier(key.Key)
	if err != nil {
		return err
	}
	r, err := tracelog.ParseAnyReceipt(raw)
	if err != nil {
		return err
	}
	got, err := r.Verify(v)
	if err != nil {
		return fmt.Errorf("the exchange made a receipt that does not verify: %w", err)
	}
	if id != "" && got.Record.ID != id {
		return fmt.Errorf("record %d has request id %s, not %s", got.Index, strconv.Quote(got.Record.ID), strconv.Quote(id))
	}
	if *out == "" {
		_, err := stdout.Write(raw)
		return err
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote the receipt of record %d (request id %s) in the trace log %s, under its checkpoint of %d records, to %s.\n",
		got.Index, strconv.Quote(got.Record.ID), got.Checkpoint.Origin, got.Checkpoint.Size, *out)
	fmt.Fprintf(stdout, "It carries %s.\n", evidenceSummary(got))
	fmt.Fprintf(stdout, "Anyone can check it offline with the log's key:\n  bab trace verify-receipt %s --log-key %s\n", *out, key.Key)
	return nil
}

func traceKey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace key")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	stateDir := fs.String("state-dir", "", "read the state file in this directory rather than ask the running exchange")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := newTraceSource(*cfgPath, *stateDir)
	if err != nil {
		return err
	}
	var key string
	err = src.do(func(c *adminClient) error {
		var k exchange.TraceKey
		err := c.do(ctx, "GET", "/v1/trace/key", nil, &k)
		key = k.Key
		return err
	}, func(s *store.Store) error {
		var err error
		_, key, err = s.TraceLogKey()
		return err
	})
	if err != nil {
		return err
	}
	if key == "" {
		return errors.New("the exchange has no trace log key yet: it makes one when it first starts")
	}
	_, err = fmt.Fprintln(stdout, key)
	return err
}

// evidenceSummary says whose evidence a receipt carries.
func evidenceSummary(v *tracelog.Verified) string {
	var sides []string
	for _, e := range v.Evidence {
		sides = append(sides, fmt.Sprintf("the %s %s's (batch %d, record %d)", e.Entry.Side, e.Entry.Speaker(), e.Batch.Number, e.BatchIndex))
	}
	if len(sides) == 0 {
		return "no evidence of the appliances: the log holds none of this request"
	}
	return "the appliances' evidence of the request: " + strings.Join(sides, " and ")
}
