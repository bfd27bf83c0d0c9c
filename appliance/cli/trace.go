package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/internal/cliargs"
	"github.com/babgate/bab/tracelog"
)

// traceCmd is "bab trace verify-receipt", which checks a receipt of the
// exchange's trace log offline, with nothing but the log's key, and "bab
// trace query" (tracequery.go).
func traceCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "query" {
		return traceQuery(ctx, args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "verify-receipt" {
		return errors.New("usage: bab trace verify-receipt FILE --log-key KEY [--salt HEX] [--body FILE] [--target 'METHOD PATH?QUERY'] | bab trace query [--since 24h] [--service S] [-o json]")
	}
	fs := newFlags("trace verify-receipt")
	logKey := fs.String("log-key", "", "the exchange's trace log key (ORIGIN+HASH+KEY, as bab-exchange trace key prints it), or a file that holds it")
	body := fs.String("body", "", "also check that this file is the request's or the answer's body, as the appliances' evidence (or the record) holds its digest")
	saltHex := fs.String("salt", "", "the request's evidence salt (the Bab-Evidence-Salt header the caller and the backend got), to check --body and --target against the evidence")
	target := fs.String("target", "", "also check that this was what was asked: the method, a space, the path inside the service and ?query, as 'GET /citizens/42?cin=AB1'")
	rest, err := cliargs.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 || *logKey == "" {
		return errors.New("give the receipt file and the log's key: bab trace verify-receipt FILE --log-key KEY")
	}
	key, err := tracelog.LoadKey(*logKey)
	if err != nil {
		return err
	}
	v, err := tracelog.NewVerifier(key)
	if err != nil {
		return err
	}
	raw, err := readReceipt(rest[0])
	if err != nil {
		return err
	}
	r, err := tracelog.ParseAnyReceipt(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid receipt: %w", rest[0], err)
	}
	got, err := r.Verify(v)
	if err != nil {
		return fmt.Errorf("%s does not verify: %w", rest[0], err)
	}
	fmt.Fprintf(stdout, "Receipt verified: record %d of the trace log %s is in the tree of %d records that the log's key %s signed.\n\n",
		got.Index, got.Checkpoint.Origin, got.Checkpoint.Size, got.KeyName)
	if err := got.Record.Describe(stdout); err != nil {
		return err
	}
	if _, ok := r.(*tracelog.EvidenceReceipt); ok {
		if err := got.DescribeEvidence(stdout); err != nil {
			return err
		}
	}
	if *body == "" && *target == "" {
		return nil
	}
	if len(got.Evidence) == 0 {
		if *target != "" {
			return errors.New("--target: the receipt carries no evidence of the appliances, which is what holds the digest of what was asked")
		}
		return checkBody(stdout, *body, &got.Record)
	}
	if *saltHex == "" {
		return errors.New("the appliances' digests are keyed with the request's salt: give it with --salt (the Bab-Evidence-Salt header the caller and the backend got)")
	}
	salt, err := evidence.ParseSalt(*saltHex)
	if err != nil {
		return fmt.Errorf("--salt: %w", err)
	}
	if *target != "" {
		if err := checkTarget(stdout, *target, salt, got.Evidence); err != nil {
			return err
		}
	}
	if *body != "" {
		return checkEvidenceBody(stdout, *body, salt, got.Evidence)
	}
	return nil
}

// checkTarget checks what was asked against the entries' target digests.
func checkTarget(w io.Writer, target string, salt evidence.Salt, evs []tracelog.Evidence) error {
	method, pathQuery, ok := strings.Cut(target, " ")
	if !ok || method == "" || !strings.HasPrefix(pathQuery, "/") {
		return fmt.Errorf("--target %q: give the method, a space, then the path inside the service (and ?query), as 'GET /citizens/42'", target)
	}
	path, query, _ := strings.Cut(pathQuery, "?")
	d := evidence.Target(salt, method, path, query)
	var who []string
	for _, e := range evs {
		if e.Entry.Target == d {
			who = append(who, fmt.Sprintf("the %s %s", e.Entry.Side, e.Entry.Speaker()))
		}
	}
	if len(who) == 0 {
		return fmt.Errorf("--target: %q with this salt is not what the appliances' evidence says was asked (or the salt is not this request's)", target)
	}
	fmt.Fprintf(w, "\n%q is what was asked, as %s signed it.\n", target, strings.Join(who, " and "))
	return nil
}

// checkEvidenceBody checks a file against the request and answer body
// digests of the entries, keyed with salt.
func checkEvidenceBody(w io.Writer, path string, salt evidence.Salt, evs []tracelog.Evidence) error {
	req, resp := evidence.NewBody(salt, true), evidence.NewBody(salt, false)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(io.MultiWriter(req, resp), f); err != nil {
		return fmt.Errorf("--body %s: %w", path, err)
	}
	req.End()
	resp.End()
	rd, _ := req.Sum()
	ad, _ := resp.Sum()
	var found []string
	for _, e := range evs {
		sent, got := "sent", "received"
		if e.Entry.Side == evidence.Provider {
			sent, got = got, sent
		}
		if e.Entry.RequestBody == rd {
			found = append(found, fmt.Sprintf("the request body the %s %s %s", e.Entry.Side, e.Entry.Speaker(), sent))
		}
		if e.Entry.ResponseBody == ad {
			found = append(found, fmt.Sprintf("the answer body the %s %s %s", e.Entry.Side, e.Entry.Speaker(), got))
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("--body: %s, keyed with this salt, is neither body the appliances' evidence holds a digest of (or the salt is not this request's)", path)
	}
	fmt.Fprintf(w, "\nThe body in %s is %s.\n", path, strings.Join(found, ", and "))
	return nil
}

func readReceipt(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, tracelog.MaxReceipt+1))
	if err != nil {
		return nil, err
	}
	if len(b) > tracelog.MaxReceipt {
		return nil, fmt.Errorf("%s is larger than any receipt (%d bytes at most)", path, tracelog.MaxReceipt)
	}
	return b, nil
}

// checkBody compares the SHA-256 of a file with the body digests the
// record holds.
func checkBody(w io.Writer, path string, r *tracelog.Record) error {
	digests := r.BodyDigests()
	if len(digests) == 0 {
		return errors.New("--body: the record holds no body digest (this exchange does not record them yet), so no body can be checked against it")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("--body %s: %w", path, err)
	}
	var sum tracelog.Digest
	copy(sum[:], h.Sum(nil))
	names := make([]string, 0, len(digests))
	for name, d := range digests {
		if d == sum {
			fmt.Fprintf(w, "\nThe body in %s matches the record's %s digest (SHA-256 %s).\n", path, name, sum)
			return nil
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return fmt.Errorf("--body: %s (SHA-256 %s) is not the body the record holds a digest of (%v)", path, sum, names)
}
