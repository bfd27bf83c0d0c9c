package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/cliargs"
	"github.com/babgate/bab/tracelog"
)

// traceSubject is "bab-exchange trace subject": which administrations
// consulted a person's data, through the running exchange (ops only; the
// exchange audits every report).
func traceSubject(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("trace subject")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	id := fs.String("id", "", "the person, SCHEME:ID (MA-CIN:AB123456); - reads it from standard input, which keeps it out of the shell's history and the process list")
	include := fs.Bool("include-confidential", false, "also show the requests that confidential rules still hold back (investigations)")
	output := fs.String("o", "table", "output: table or json")
	rest, err := cliargs.Parse(fs, args)
	if err != nil {
		return err
	}
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *id == "" {
		return errors.New("usage: bab-exchange trace subject --id SCHEME:ID [--include-confidential] [-o table|json]")
	}
	subject := *id
	if subject == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 256)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		subject = strings.TrimSpace(line)
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(exchange.SubjectRequest{Subject: subject, IncludeConfidential: *include})
	var rep exchange.SubjectReport
	if err := c.do(ctx, "POST", exchange.PathSubjectReport, body, &rep); err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, rep)
	}
	printSubjectReport(stdout, &rep, *include)
	return nil
}

// printSubjectReport writes a report as a citizen reads it: who, which
// service, when, why, and the outcome; then what is held back, and what
// the log cannot show.
func printSubjectReport(w io.Writer, rep *exchange.SubjectReport, include bool) {
	days := int(rep.Retention / (24 * time.Hour))
	if len(rep.Entries) == 0 {
		fmt.Fprintf(w, "No request about this %s subject is in the exchange's trace (it keeps %d days).\n", rep.Scheme, days)
	} else {
		fmt.Fprintf(w, "%d request(s) about this %s subject in the exchange's trace (it keeps %d days):\n\n", len(rep.Entries), rep.Scheme, days)
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tADMINISTRATION\tBY\tSERVICE\tPURPOSE\tOUTCOME\tREQUEST")
		for _, e := range rep.Entries {
			who := e.Member
			if e.MemberName != "" {
				who = e.MemberName + " (" + e.Member + ")"
			}
			by := e.Consumer
			if e.ConsumerSystem != "" {
				by += "/" + e.ConsumerSystem
			}
			outcome := e.Outcome
			if e.Status != 0 {
				outcome += " (" + strconv.Itoa(e.Status) + ")"
			}
			if !e.ConfidentialUntil.IsZero() {
				outcome += ", CONFIDENTIAL until " + e.ConfidentialUntil.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s (record %d)\n", e.At.Local().Format("2006-01-02 15:04:05"), who, by,
				e.Method, e.Service, dash(e.Purpose), outcome, e.RequestID, e.Record)
		}
		_ = tw.Flush()
	}
	if rep.HeldBack > 0 {
		verb := "are held back from this report"
		if include {
			verb = "are shown above (--include-confidential) but held back from the citizen's report"
		}
		when := "until " + rep.HeldUntil.Format(time.DateOnly)
		if !rep.NextRelease.Equal(rep.HeldUntil) {
			when = fmt.Sprintf("until %s to %s", rep.NextRelease.Format(time.DateOnly), rep.HeldUntil.Format(time.DateOnly))
		}
		fmt.Fprintf(w, "\n%d more request(s), made under confidential rules, %s %s.\n", rep.HeldBack, verb, when)
	}
	for _, k := range rep.Unsearchable {
		fmt.Fprintf(w, "\nRequests traced from %s to %s cannot be searched: their subject key was lost on %s with the subject key file.\n",
			k.Created.Local().Format(time.DateOnly), k.Retired.Local().Format(time.DateOnly), k.Lost.Local().Format(time.DateOnly))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// traceSubjectKey is "bab-exchange trace subject-key rotate | ls |
// forget".
func traceSubjectKey(ctx context.Context, args []string, stdout io.Writer) error {
	const usage = "usage: bab-exchange trace subject-key rotate | ls [-o table|json] | forget --yes [--state-dir DIR]"
	fs := newFlags("trace subject-key")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	output := fs.String("o", "table", "ls: output, table or json")
	stateDir := fs.String("state-dir", "", "forget: the state directory, if not the config's")
	yes := fs.Bool("yes", false, "forget: give up the subject keys for good")
	rest, err := cliargs.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New(usage)
	}
	switch rest[0] {
	case "rotate":
		c, err := newAdmin(*cfgPath)
		if err != nil {
			return err
		}
		var out struct{ ID uint32 }
		if err := c.do(ctx, "POST", "/v1/trace/subject-key/rotate", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Subject key %d hashes the subjects of requests from now on. The older keys stay, sealed, so that reports find the records they hashed; each is destroyed once its last record is pruned.\n", out.ID)
		return nil
	case "ls":
		asJSON, err := outputJSON(*output)
		if err != nil {
			return err
		}
		c, err := newAdmin(*cfgPath)
		if err != nil {
			return err
		}
		var keys []store.SubjectKey
		if err := c.do(ctx, "GET", "/v1/trace/subject-keys", nil, &keys); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, keys)
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tCREATED\tSTATE")
		for _, k := range keys {
			state := "current"
			switch {
			case !k.Lost.IsZero():
				state = "lost on " + k.Lost.Local().Format(time.RFC3339) + " (its records cannot be searched)"
			case !k.Dropped.IsZero():
				state = "destroyed on " + k.Dropped.Local().Format(time.RFC3339) + ", its last record pruned"
			case !k.Retired.IsZero():
				state = "retired on " + k.Retired.Local().Format(time.RFC3339) + ", kept for the records it hashed"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", k.ID, k.Created.Local().Format(time.RFC3339), state)
		}
		return tw.Flush()
	case "forget":
		return forgetSubjectKeys(*cfgPath, *stateDir, *yes, stdout)
	}
	return errors.New(usage)
}

// forgetSubjectKeys gives up the subject keys when their key file is lost
// for good, with the exchange stopped, and records it in the audit log.
func forgetSubjectKeys(cfgPath, stateDir string, yes bool, stdout io.Writer) error {
	cfg, err := opsConfig(cfgPath)
	if err != nil {
		return err
	}
	if stateDir == "" {
		stateDir = cfg.StateDir
	}
	if !yes {
		return errors.New("forget gives up every subject key the state file holds: subject reports will not find the records traced so far. " +
			"Do it only if the subject key file is lost for good (otherwise restore it), with the exchange stopped, and add --yes")
	}
	st, err := store.Open(stateDir)
	if errors.Is(err, store.ErrLocked) {
		return errors.New("the exchange is running: stop it first (systemctl stop bab-exchange)")
	}
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	n, err := st.ForgetSubjectKeys(now)
	if err != nil {
		return err
	}
	rec := &store.AuditRecord{At: now, UID: uint32(os.Getuid()), PID: int32(os.Getpid()), Role: "ops (offline)", Method: "OFFLINE",
		Path: "trace subject-key forget", Args: map[string]string{"forgotten": strconv.Itoa(n)}, Outcome: "ok"}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		rec.User = u.Username
	}
	if err := st.AddAudit(rec); err != nil {
		return fmt.Errorf("forgot %d subject key(s), but the audit log was not written: %w", n, err)
	}
	fmt.Fprintf(stdout, "Forgot %d subject key(s). The next start uses %s (made if absent) to seal a new key; back it up apart from the state file.\n", n, cfg.SubjectKeyPath())
	return nil
}

// traceMemberQuery is "bab-exchange trace query --member M": ops' view of
// one member's transactions, as its appliances see them with bab trace
// query.
func traceMemberQuery(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("trace query")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	member := fs.String("member", "", "the member, such as MA/MUN/RABAT")
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
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *member == "" || *most < 1 {
		return errors.New("usage: bab-exchange trace query --member MEMBER [--since 24h] [--until TIME] [--service SERVICE] [--from N] [--max N] [-o table|json]")
	}
	q := url.Values{"member": {*member}}
	now := time.Now()
	if err := cliargs.SetWindow(q, *since, *until, now); err != nil {
		return err
	}
	if *service != "" {
		q.Set("service", *service)
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var recs []store.LoggedEntry
	next := *from
	for {
		q.Set("from", strconv.FormatInt(next, 10))
		q.Set("limit", strconv.Itoa(min(tracelog.MaxTracePage, *most-len(recs))))
		var page store.MemberPage
		if err := c.do(ctx, "GET", "/v1/trace/query?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		recs = append(recs, page.Records...)
		if next = page.Next; next == 0 || len(recs) >= *most {
			break
		}
	}
	if asJSON {
		return printJSON(stdout, store.MemberPage{Records: append([]store.LoggedEntry{}, recs...), Next: next})
	}
	if len(recs) == 0 {
		fmt.Fprintf(stdout, "The trace holds no request of %s in that time.\n", *member)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tRECORD\tID\tCONSUMER\tPROVIDER\tSERVICE\tMETHOD\tPURPOSE\tOUTCOME\tSTATUS\tDURATION")
	for _, e := range recs {
		consumer := e.Consumer
		if e.ConsumerSystem != "" {
			consumer += "/" + e.ConsumerSystem
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.At.Local().Format(time.RFC3339), e.Index, e.ID, consumer, dash(e.Provider),
			e.Service, e.Method, dash(e.Purpose), e.Outcome, e.Status, e.Duration.Round(time.Microsecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next != 0 {
		fmt.Fprintf(stdout, "\nThere are more: go on with --from %d.\n", next)
	}
	return nil
}
