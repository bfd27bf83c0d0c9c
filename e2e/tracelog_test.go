package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/tracelog"
)

// The trace log's buckets in the exchange's state file (exchange/store).
var (
	recordsBucket     = []byte("trace_records")
	checkpointsBucket = []byte("trace_checkpoints")
)

// marker is an identifier sent in a path and a query: it must reach the
// backend and never the exchange's state file.
const marker = "4242424242"

// TestTraceLogVerifiesAndNamesTampering: requests through the lab are
// traced with no path or identifier anywhere in the exchange's state
// file; a receipt verifies offline with bab and fails when one byte
// changes; with the exchange stopped, trace verify finds a record and a
// checkpoint changed by one byte in the file, and names them.
func TestTraceLogVerifiesAndNamesTampering(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "trace_checkpoint_every: 300ms\n"})
	var ids []string
	for _, r := range []struct {
		method, path, body string
	}{
		{"GET", "/citizens/42", ""},
		{"GET", "/citizens/" + marker + "?cin=7373737373", ""},
		{"POST", "/echo", "body-5151515151"},
	} {
		var body *strings.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		resp, b := doBody(t, l, r.method, r.path, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
		ids = append(ids, resp.Header.Get("Bab-Request-Id"))
	}
	markerID := ids[1]

	// A receipt of the marker request, made while the exchange runs.
	key, err := exchangeCmd(l, "trace", "key")
	if err != nil {
		t.Fatalf("trace key: %v\n%s", err, key)
	}
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, "127.0.0.1/trace/") {
		t.Errorf("the log key %q is not named after the exchange's first name", key)
	}
	receipt := filepath.Join(t.TempDir(), "r.tlog-proof")
	out, err := exchangeCmd(l, "trace", "receipt", markerID, "-o", receipt)
	if err != nil || !strings.Contains(out, "bab trace verify-receipt "+receipt+" --log-key "+key) {
		t.Fatalf("trace receipt: %v\n%s", err, out)
	}
	out, code := babCmd(t, "trace", "verify-receipt", receipt, "--log-key", key)
	if code != 0 || !strings.Contains(out, "Receipt verified: record") || !strings.Contains(out, markerID) ||
		!strings.Contains(out, lab.CommuneHQ.String()) || !strings.Contains(out, lab.CivilStatus.String()) || strings.Contains(out, marker) {
		t.Fatalf("bab trace verify-receipt: exit %d\n%s", code, out)
	}
	t.Logf("bab trace verify-receipt:\n%s", out)
	good, err := os.ReadFile(receipt)
	if err != nil {
		t.Fatal(err)
	}
	changeEach(t, good, func(what string, bad []byte) {
		f := filepath.Join(t.TempDir(), "bad.tlog-proof")
		_ = os.WriteFile(f, bad, 0o644)
		out, code := babCmd(t, "trace", "verify-receipt", f, "--log-key", key)
		if code != 1 || !(strings.Contains(out, "does not verify") || strings.Contains(out, "is not a valid receipt")) {
			t.Errorf("a receipt with one byte changed in %s: exit %d\n%s", what, code, out)
		}
		t.Logf("one byte changed in %s: %s", what, out)
	})
	if out, err := exchangeCmd(l, "trace", "verify"); err != nil || !strings.Contains(out, "OK:") {
		t.Fatalf("trace verify of the running exchange: %v\n%s", err, out)
	}

	// Stopped, the exchange has written every record and a checkpoint
	// over them; nothing in its file holds a path, the query, the body or
	// the marker.
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(l.Exchange.StateDir, store.FileName)
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"/citizens/42", marker, "7373737373", "cin=", "body-5151515151"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the exchange's state file holds %q", s)
		}
	}
	if !bytes.Contains(raw, []byte(markerID)) {
		t.Error("the state file does not hold the marker request's id: the grep above looks at the wrong file")
	}
	out, err = exchangeCmd(l, "trace", "verify")
	var records, batches, entries int
	if err == nil {
		_, err = fmt.Sscanf(out[strings.Index(out, "Checked: "):], "Checked: %d record(s), of which %d are the appliances' evidence batches (%d entries)", &records, &batches, &entries)
	}
	if err != nil || !strings.Contains(out, "OK:") || records-batches != len(ids) || entries != 2*len(ids) {
		t.Fatalf("trace verify of the stopped exchange's file: %v (%d records, %d batches of %d entries)\n%s", err, records, batches, entries, out)
	}
	// A receipt can be made from the stopped exchange's file too.
	if out, err := exchangeCmd(l, "trace", "receipt", ids[0]); err != nil || !strings.HasPrefix(out, tracelog.EvidenceReceiptHeader) {
		t.Fatalf("trace receipt from the file: %v\n%s", err, out)
	}

	// One byte of the marker's record changed in the file.
	index, orig := findRecord(t, db, markerID)
	tamper(t, db, recordsBucket, index, func(v []byte) { v[bytes.Index(v, []byte("civil-status"))] = 'C' })
	out, err = exchangeCmd(l, "trace", "verify")
	want := fmt.Sprintf("record %d (request id %q) was changed", index, markerID)
	if err == nil || !strings.Contains(out, "FAILED") || !strings.Contains(out, want) {
		t.Fatalf("trace verify of a changed record: %v, want %q in\n%s", err, want, out)
	}
	t.Logf("trace verify of a changed record:\n%s", out)
	tamper(t, db, recordsBucket, index, func(v []byte) { copy(v, orig) })
	if out, err := exchangeCmd(l, "trace", "verify"); err != nil {
		t.Fatalf("trace verify after the record was put back: %v\n%s", err, out)
	}
	// One byte of the newest checkpoint's root hash changed.
	size := lastKey(t, db, checkpointsBucket)
	tamper(t, db, checkpointsBucket, size, func(v []byte) {
		i := bytes.Index(v, []byte("\n"+strconv.FormatInt(size, 10)+"\n")) + len(strconv.FormatInt(size, 10)) + 3
		v[i] ^= 0x01
	})
	out, err = exchangeCmd(l, "trace", "verify")
	want = fmt.Sprintf("checkpoint of %d records does not verify", size)
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("trace verify of a changed checkpoint: %v, want %q in\n%s", err, want, out)
	}
	t.Logf("trace verify of a changed checkpoint:\n%s", out)
}

// doBody sends a request with an optional body through the consumer.
func doBody(t *testing.T, l *lab.Lab, method, path string, body *strings.Reader) (*http.Response, []byte) {
	t.Helper()
	if body == nil {
		return do(t, l, method, path, nil, nil)
	}
	return do(t, l, method, path, body, nil)
}

// changeEach calls f with good changed by one byte in each part of a
// receipt: the record, the index, a proof hash, the checkpoint's size and
// root, its signature.
func changeEach(t *testing.T, good []byte, f func(what string, bad []byte)) {
	t.Helper()
	lines := bytes.SplitAfter(good, []byte("\n"))
	at := func(line, col int) int {
		n := 0
		for _, l := range lines[:line] {
			n += len(l)
		}
		return n + col
	}
	sig := len(lines) - 2 // the last line is empty after the split
	for _, c := range []struct {
		what string
		i    int
	}{
		{"the record", at(1, 20)}, {"the index", at(2, 6)}, {"a proof hash", at(3, 5)},
		{"the checkpoint's size", at(sig-3, 0)}, {"the checkpoint's root", at(sig-2, 7)}, {"the signature", at(sig, len(lines[sig])-4)},
	} {
		bad := append([]byte(nil), good...)
		if bad[c.i] == 'A' {
			bad[c.i] = 'B'
		} else {
			bad[c.i] = 'A'
		}
		f(c.what, bad)
	}
}

// findRecord returns the index and the bytes of the record with id.
func findRecord(t *testing.T, path, id string) (int64, []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var index int64 = -1
	var data []byte
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(recordsBucket).ForEach(func(k, v []byte) error {
			var r tracelog.Record
			if r.UnmarshalBinary(v) == nil && r.ID == id {
				index, data = int64(beUint(k)), append([]byte(nil), v...)
			}
			return nil
		})
	})
	if index < 0 {
		t.Fatalf("no record of request %s in the file", id)
	}
	return index, data
}

// tamper changes the value of key in bucket in place, as someone who can
// write the file would.
func tamper(t *testing.T, path string, bucket []byte, key int64, edit func([]byte)) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := binary.BigEndian.AppendUint64(nil, uint64(key))
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		v := append([]byte(nil), b.Get(k)...)
		if len(v) == 0 {
			return fmt.Errorf("no key %d in %s", key, bucket)
		}
		edit(v)
		return b.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lastKey(t *testing.T, path string, bucket []byte) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	_ = db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucket).Cursor().Last()
		n = int64(beUint(k))
		return nil
	})
	return n
}

func beUint(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// TestTraceRetentionPrunes: past trace_retention a record is deleted: no
// receipt can be made of it, and trace verify still checks the tree and
// the checkpoints and says how many records were pruned.
func TestTraceRetentionPrunes(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "trace_retention: 2s\ntrace_checkpoint_every: 200ms\n"})
	resp, b := do(t, l, "GET", "/citizens/7", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	id := resp.Header.Get("Bab-Request-Id")
	if out, err := exchangeCmd(l, "trace", "receipt", id); err != nil {
		t.Fatalf("receipt before the retention period ended: %v\n%s", err, out)
	}
	var out string
	waitFor(t, 10*time.Second, func() error {
		var err error
		out, err = exchangeCmd(l, "trace", "verify")
		if err != nil || !strings.Contains(out, "of which 1 were pruned") {
			return fmt.Errorf("not pruned yet: %v\n%s", err, out)
		}
		return nil
	})
	if !strings.Contains(out, "OK:") {
		t.Errorf("trace verify after pruning:\n%s", out)
	}
	out, err := exchangeCmd(l, "trace", "receipt", id)
	if err == nil || !strings.Contains(out, "older than the retention period and deleted") {
		t.Errorf("receipt of a pruned record: %v\n%s", err, out)
	}
	t.Logf("receipt of a pruned record: %s", out)
}
