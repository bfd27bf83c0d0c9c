package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/babgate/bab/exchange"
)

// auditLs lists the newest audit records: who changed what on the
// exchange, when, and how it ended.
func auditLs(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("audit ls")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	limit := fs.Int("limit", 50, "how many of the newest records")
	output := fs.String("o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	asJSON, err := outputJSON(*output)
	if err != nil {
		return err
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var list []exchange.AuditRecord
	if err := c.do(ctx, "GET", "/v1/audit?limit="+strconv.Itoa(*limit), nil, &list); err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tWHO\tROLE\tACTION\tARGUMENTS\tOUTCOME")
	for _, r := range list {
		who := fmt.Sprintf("uid %d", r.UID)
		if r.User != "" {
			who = fmt.Sprintf("%s (%d)", r.User, r.UID)
		}
		outcome := r.Outcome
		if r.Error != "" {
			outcome += ": " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\n", r.At.Local().Format(time.RFC3339), who, r.Role, r.Method, r.Path, formatArgs(r.Args), outcome)
	}
	return tw.Flush()
}

// formatArgs writes arguments as key=value, sorted, or "-" if none.
func formatArgs(args map[string]string) string {
	if len(args) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + args[k]
	}
	return strings.Join(parts, " ")
}
