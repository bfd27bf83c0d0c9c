package cli

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/tracelog"
)

// oneRecordReceipt writes the receipt of r in a log of that one record,
// and returns its file and the log's key.
func oneRecordReceipt(t *testing.T, r tracelog.Record) (string, string) {
	t.Helper()
	skey, vkey, err := tracelog.NewKey("exchange.test/trace/1")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := tracelog.Sign(tracelog.Checkpoint{Origin: s.Name(), Size: 1, Root: tlog.RecordHash(b)}, s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.tlog-proof")
	rc := tracelog.Receipt{Record: b, Index: 0, Checkpoint: signed}
	if err := os.WriteFile(path, rc.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, vkey
}

// TestVerifyReceiptBody: --body checks a file against the body digests a
// record holds, and says so when it holds none.
func TestVerifyReceiptBody(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "answer.json")
	other := filepath.Join(dir, "other.json")
	_ = os.WriteFile(body, []byte(`{"name":"A. Benali"}`), 0o600)
	_ = os.WriteFile(other, []byte(`{"name":"someone else"}`), 0o600)
	r := tracelog.Record{At: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC), ID: "9f86d081884c7d65", Consumer: "MA/MUN/RABAT:hq",
		Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Outcome: "ok", Status: 200}
	plain, key := oneRecordReceipt(t, r)
	r.ResponseBodyDigest = sha256.Sum256([]byte(`{"name":"A. Benali"}`))
	withDigest, key2 := oneRecordReceipt(t, r)

	var out strings.Builder
	if err := traceCmd(context.Background(), []string{"verify-receipt", plain, "--log-key", key}, &out); err != nil || !strings.Contains(out.String(), "Receipt verified: record 0") {
		t.Fatalf("verify-receipt = %v\n%s", err, out.String())
	}
	if err := traceCmd(context.Background(), []string{"verify-receipt", plain, "--log-key", key, "--body", body}, &out); err == nil || !strings.Contains(err.Error(), "holds no body digest") {
		t.Errorf("--body on a record without digests = %v", err)
	}
	out.Reset()
	if err := traceCmd(context.Background(), []string{"verify-receipt", "--body", body, withDigest, "--log-key", key2}, &out); err != nil || !strings.Contains(out.String(), "matches the record's response body digest") {
		t.Errorf("--body with the right body = %v\n%s", err, out.String())
	}
	if err := traceCmd(context.Background(), []string{"verify-receipt", withDigest, "--log-key", key2, "--body", other}, &out); err == nil || !strings.Contains(err.Error(), "is not the body") {
		t.Errorf("--body with another body = %v", err)
	}
	// The key from a file; another log's key is refused.
	keyFile := filepath.Join(dir, "log.key")
	_ = os.WriteFile(keyFile, []byte(key+"\n"), 0o644)
	if err := traceCmd(context.Background(), []string{"verify-receipt", plain, "--log-key", keyFile}, &out); err != nil {
		t.Errorf("--log-key FILE: %v", err)
	}
	if err := traceCmd(context.Background(), []string{"verify-receipt", plain, "--log-key", key2}, &out); err == nil || !strings.Contains(err.Error(), "not validly signed by the log key") {
		t.Errorf("another log's key = %v", err)
	}
}
