package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

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
		return errors.New("usage: bab trace verify-receipt FILE --log-key KEY [--body FILE] | bab trace query [--since 24h] [--service S] [-o json]")
	}
	fs := newFlags("trace verify-receipt")
	logKey := fs.String("log-key", "", "the exchange's trace log key (ORIGIN+HASH+KEY, as bab-exchange trace key prints it), or a file that holds it")
	body := fs.String("body", "", "also check that this file is a body whose SHA-256 the record holds")
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
	r, err := tracelog.ParseReceipt(raw)
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
	if *body == "" {
		return nil
	}
	return checkBody(stdout, *body, &got.Record)
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
