package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/tracelog"
)

var traceBase = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func traceEntry(i int) TraceEntry {
	return TraceEntry{ID: fmt.Sprintf("%016x", i), At: traceBase.Add(time.Duration(i) * time.Second), Consumer: "MA/MUN/RABAT:hq",
		ConsumerSystem: "complaint-desk", Provider: "MA/GOV/ETATCIVIL:dc1", Service: "MA/GOV/ETATCIVIL/civil-status",
		Method: "GET", Outcome: "ok", Status: 200, ResponseBytes: 42, Duration: 3 * time.Millisecond}
}

// testLogKey gives s a log key and returns a function that checkpoints
// the log with it, and its verifier.
func testLogKey(t testing.TB, s *Store) (func() int64, note.Verifier) {
	t.Helper()
	skey, vkey, err := tracelog.NewKey("exchange.example.gov/trace/test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetTraceLogKey(skey, vkey); err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	v, _ := tracelog.NewVerifier(vkey)
	return func() int64 {
		t.Helper()
		n, err := s.Checkpoint(func(size int64, root tlog.Hash) ([]byte, error) {
			return tracelog.Sign(tracelog.Checkpoint{Origin: signer.Name(), Size: size, Root: root}, signer)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, v
}

func appendN(t testing.TB, s *Store, from, n int) {
	t.Helper()
	var batch []TraceEntry
	for i := from; i < from+n; i++ {
		batch = append(batch, traceEntry(i))
	}
	if _, err := s.AppendTrace(batch); err != nil {
		t.Fatal(err)
	}
}

func wantClean(t *testing.T, s *Store, v note.Verifier) *TraceReport {
	t.Helper()
	rep, err := s.VerifyTrace(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("VerifyTrace found problems in a sound log: %+v", rep.Problems)
	}
	return rep
}

// TestTraceLog appends in batches of several sizes, checkpoints between
// them, lists the newest records, and makes a receipt of every record
// that verifies with the log key.
func TestTraceLog(t *testing.T) {
	s := openTest(t)
	if got, err := s.Trace(10); err != nil || len(got) != 0 {
		t.Fatalf("Trace() on a fresh store = %v, %v", got, err)
	}
	checkpoint, v := testLogKey(t, s)
	if n := checkpoint(); n != 0 {
		t.Errorf("a checkpoint of the empty log was made (%d)", n)
	}
	next := 0
	for _, n := range []int{1, 2, 5, 1, 64, 7} {
		appendN(t, s, next, n)
		next += n
		if got := checkpoint(); got != int64(next) {
			t.Fatalf("checkpoint after %d records signed %d", next, got)
		}
		if got := checkpoint(); got != 0 {
			t.Fatalf("a second checkpoint of an unchanged tree was made (%d)", got)
		}
	}
	got, err := s.Trace(3)
	if err != nil || len(got) != 3 || got[0].Index != int64(next-1) || got[0].ID != traceEntry(next-1).ID || got[2].Index != int64(next-3) {
		t.Fatalf("Trace(3) = %+v, %v", got, err)
	}
	if want := traceEntry(next - 1); got[0].TraceEntry.At != want.At || got[0].ConsumerSystem != want.ConsumerSystem {
		t.Errorf("newest record = %+v, want %+v", got[0].TraceEntry, want)
	}
	for i := range next {
		r, err := s.TraceReceipt(traceEntry(i).ID, -1)
		if err != nil {
			t.Fatalf("receipt of record %d: %v", i, err)
		}
		parsed, err := tracelog.ParseReceipt(r.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		vr, err := parsed.Verify(v)
		if err != nil || vr.Index != int64(i) || vr.Record.ID != traceEntry(i).ID || vr.Checkpoint.Size != int64(next) {
			t.Fatalf("receipt of record %d: %+v, %v", i, vr, err)
		}
	}
	rep := wantClean(t, s, v)
	if rep.Size != int64(next) || rep.Records != int64(next) || rep.Checkpoints != 6 || rep.Checkpointed != int64(next) || rep.Origin != v.Name() ||
		rep.Hashes != tlog.StoredHashCount(int64(next)) {
		t.Errorf("report %+v", rep)
	}
	// Without a key given, the state file's is used.
	wantClean(t, s, nil)
}

func TestTraceReceiptRefusals(t *testing.T) {
	s := openTest(t)
	checkpoint, _ := testLogKey(t, s)
	appendN(t, s, 0, 3)
	if _, err := s.TraceReceipt(traceEntry(1).ID, -1); !errors.Is(err, ErrNotCheckpointed) {
		t.Errorf("receipt before any checkpoint = %v, want ErrNotCheckpointed", err)
	}
	checkpoint()
	dup := traceEntry(1)
	dup.At = dup.At.Add(time.Hour)
	if _, err := s.AppendTrace([]TraceEntry{dup}); err != nil {
		t.Fatal(err)
	}
	checkpoint()
	if _, err := s.TraceReceipt(dup.ID, -1); !errors.Is(err, ErrTraceAmbiguous) || !strings.Contains(err.Error(), "records 1, 3") {
		t.Errorf("receipt of an id that two records have = %v, want ErrTraceAmbiguous naming both", err)
	}
	if r, err := s.TraceReceipt("", 3); err != nil || receiptIndex(r) != 3 {
		t.Errorf("receipt by index = %+v, %v", r, err)
	}
	if _, err := s.TraceReceipt("nope", -1); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("receipt of an unknown id = %v", err)
	}
	if _, err := s.TraceReceipt("", 4); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("receipt beyond the log = %v", err)
	}
}

// TestTraceVerifyNamesTampering changes the file as someone who can write
// it would, one thing at a time, and checks that VerifyTrace names what
// was changed.
func TestTraceVerifyNamesTampering(t *testing.T) {
	tests := []struct {
		name string
		edit func(tx *bolt.Tx) error
		want TraceProblem
	}{
		{"a record's byte", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTraceRecords)
			v := clone(b.Get(u64(5)))
			i := bytes.Index(v, []byte("complaint-desk"))
			v[i] = 'C'
			return b.Put(u64(5), v)
		}, TraceProblem{Kind: "record", Index: 5, RequestID: traceEntry(5).ID, Problem: "was changed"}},
		{"a record's id", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTraceRecords)
			v := clone(b.Get(u64(9)))
			v[bytes.Index(v, []byte(traceEntry(9).ID))] = 'f'
			return b.Put(u64(9), v)
		}, TraceProblem{Kind: "record", Index: 9, RequestID: "f" + traceEntry(9).ID[1:], Problem: "was changed"}},
		{"a record deleted", func(tx *bolt.Tx) error { return tx.Bucket(bucketTraceRecords).Delete(u64(7)) },
			TraceProblem{Kind: "record", Index: 7, Problem: "is missing"}},
		{"a record that does not decode", func(tx *bolt.Tx) error { return tx.Bucket(bucketTraceRecords).Put(u64(2), []byte{9}) },
			TraceProblem{Kind: "record", Index: 2, Problem: "does not decode"}},
		{"a record and its leaf", func(tx *bolt.Tx) error {
			e := traceEntry(4)
			e.Outcome = "not_allowed"
			v, _ := e.MarshalBinary()
			h := tlog.RecordHash(v)
			if err := tx.Bucket(bucketTraceHashes).Put(u64(tlog.StoredHashIndex(0, 4)), h[:]); err != nil {
				return err
			}
			return tx.Bucket(bucketTraceRecords).Put(u64(4), v)
		}, TraceProblem{Kind: "hash", Index: tlog.StoredHashIndex(1, 2), Problem: "is not the hash of its two children"}},
		{"a checkpoint's byte", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTraceCheckpoints)
			v := clone(b.Get(u64(10)))
			v[len("exchange.example.gov/trace/test\n1")] = '2'
			return b.Put(u64(10), v)
		}, TraceProblem{Kind: "checkpoint", Index: 10, Problem: "does not verify"}},
		{"a checkpoint's signature", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTraceCheckpoints)
			v := clone(b.Get(u64(4)))
			v[len(v)-5] ^= 1
			return b.Put(u64(4), v)
		}, TraceProblem{Kind: "checkpoint", Index: 4, Problem: "does not verify"}},
		{"the log key", func(tx *bolt.Tx) error {
			_, vkey, _ := tracelog.NewKey("exchange.example.gov/trace/test")
			return tx.Bucket(bucketTraceLog).Put(keyTraceVerifier, []byte(vkey))
		}, TraceProblem{Kind: "checkpoint", Index: 4, Problem: "does not verify"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			checkpoint, _ := testLogKey(t, s)
			appendN(t, s, 0, 4)
			checkpoint()
			appendN(t, s, 4, 6)
			checkpoint()
			appendN(t, s, 10, 3)
			wantClean(t, s, nil)
			if err := s.db.Update(tc.edit); err != nil {
				t.Fatal(err)
			}
			rep, err := s.VerifyTrace(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) == 0 {
				t.Fatalf("VerifyTrace found nothing wrong: %+v", rep)
			}
			got := rep.Problems[0]
			if got.Kind != tc.want.Kind || got.Index != tc.want.Index || got.RequestID != tc.want.RequestID || !strings.Contains(got.Problem, tc.want.Problem) {
				t.Errorf("first problem = %+v, want %+v (all: %+v)", got, tc.want, rep.Problems)
			}
		})
	}
}

// TestTraceVerifyWithAnotherKey: checked with a key other than the log's,
// nothing verifies, and the report says the keys differ.
func TestTraceVerifyWithAnotherKey(t *testing.T) {
	s := openTest(t)
	checkpoint, _ := testLogKey(t, s)
	appendN(t, s, 0, 3)
	checkpoint()
	_, other, _ := tracelog.NewKey("exchange.example.gov/trace/test")
	v, _ := tracelog.NewVerifier(other)
	rep, err := s.VerifyTrace(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 2 || rep.Problems[0].Kind != "log" || rep.Problems[1].Kind != "checkpoint" {
		t.Errorf("problems %+v", rep.Problems)
	}
}

// TestPruneTrace deletes the records older than the retention period in
// batches: their bytes and ids go, the tree and the checkpoints stay, the
// log still verifies and says how many were pruned, and a receipt of a
// pruned record is refused with a clear error.
func TestPruneTrace(t *testing.T) {
	s := openTest(t)
	checkpoint, v := testLogKey(t, s)
	appendN(t, s, 0, 10)
	checkpoint()
	appendN(t, s, 10, 15)
	checkpoint()
	cutoff := traceBase.Add(12 * time.Second) // records 0..11 are older
	total := 0
	for {
		n, err := s.PruneTrace(cutoff, 5)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 5 {
			break
		}
	}
	if total != 12 {
		t.Fatalf("pruned %d records, want 12", total)
	}
	left, err := s.Trace(100)
	if err != nil || len(left) != 13 || left[len(left)-1].Index != 12 || left[0].Index != 24 {
		t.Fatalf("left %+v, %v", left, err)
	}
	rep := wantClean(t, s, v)
	if rep.Pruned != 12 || rep.Records != 13 || rep.Size != 25 || rep.Checkpoints != 2 {
		t.Errorf("report after pruning %+v", rep)
	}
	_, err = s.TraceReceipt(traceEntry(3).ID, -1)
	if !errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "older than the retention period and deleted") {
		t.Errorf("receipt of a pruned record by id = %v", err)
	}
	if _, err := s.TraceReceipt("", 3); !errors.Is(err, ErrTracePruned) {
		t.Errorf("receipt of a pruned record by index = %v", err)
	}
	if _, err := s.TraceReceipt(traceEntry(12).ID, -1); err != nil {
		t.Errorf("receipt of the oldest record kept: %v", err)
	}
	// The index holds no pruned id.
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTraceIDs).ForEach(func(k, _ []byte) error {
			if i := int64(binary.BigEndian.Uint64(k[len(k)-8:])); i < 12 {
				return fmt.Errorf("the index keeps the id of pruned record %d", i)
			}
			return nil
		})
	})
	if err != nil {
		t.Error(err)
	}
	// Later records are appended after the pruned ones as usual.
	appendN(t, s, 25, 3)
	checkpoint()
	wantClean(t, s, v)
	// Pruning everything leaves a log that still verifies.
	if _, err := s.PruneTrace(traceBase.Add(time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	if rep := wantClean(t, s, v); rep.Pruned != 28 || rep.Records != 0 {
		t.Errorf("report after pruning everything %+v", rep)
	}
}

// TestMigrateOldTrace opens a file as a layout-2 exchange left it: its
// trace entries, which held the request's path, move into the trace log
// without it, and the rewritten file holds no path anywhere, free pages
// included.
func TestMigrateOldTrace(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		if err := meta.Put(keyLayout, u64(2)); err != nil {
			return err
		}
		b, _ := tx.CreateBucket(bucketOldTrace)
		for i := range 30 {
			e := fmt.Sprintf(`{"id":"%016x","at":"%s","consumer":"MA/MUN/RABAT:hq","service":"MA/GOV/ETATCIVIL/civil-status","method":"GET","path":"/citizens/4242424%03d","outcome":"ok","status":200,"request_bytes":0,"response_bytes":42,"duration_ns":3000000}`,
				i, traceBase.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i)
			var k [16]byte
			copy(k[:], u64(traceBase.Add(time.Duration(i)*time.Second).UnixNano()))
			copy(k[8:], u64(int64(i)))
			if err := b.Put(k[:], []byte(e)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openAt(t, dir)
	got, err := s.Trace(100)
	if err != nil || len(got) != 30 || got[29].ID != fmt.Sprintf("%016x", 0) || got[0].Index != 29 || got[0].ResponseBytes != 42 {
		t.Fatalf("migrated trace %+v, %v", got, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("/citizens/")) || bytes.Contains(raw, []byte("4242424")) {
		t.Error("the state file still holds a request path after the migration")
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".rewrite")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the rewrite left its copy: %v", err)
	}
	checkpoint, v := testLogKey(t, s)
	checkpoint()
	wantClean(t, s, v)
}

// TestOpenReadOnly: ops commands read a stopped exchange's file; while the
// exchange holds it, the read-only open says so.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	appendN(t, s, 0, 2)
	if _, err := OpenReadOnly(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("OpenReadOnly while the store is open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, err := ro.Trace(10); err != nil || len(got) != 2 {
		t.Errorf("Trace read-only = %+v, %v", got, err)
	}
	if _, err := ro.AppendTrace([]TraceEntry{traceEntry(3)}); err == nil {
		t.Error("a read-only store appended")
	}
	if _, err := OpenReadOnly(t.TempDir()); err == nil {
		t.Error("OpenReadOnly of an empty directory succeeded")
	}
}

// TestTraceEntryJSON: the admin API's listing carries the index beside the
// record's fields, and no path.
func TestTraceEntryJSON(t *testing.T) {
	b, err := json.Marshal(LoggedEntry{Index: 7, TraceEntry: traceEntry(7)})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `"index":7`) || !strings.Contains(s, `"id":"0000000000000007"`) || strings.Contains(s, "path") || strings.Contains(s, "evidence") {
		t.Errorf("JSON %s", s)
	}
}

// TestTraceIDIndexChunks: ids are indexed chunk by chunk as chunks
// complete, across batches of any size; a lookup finds a record in an
// indexed chunk and in the tail not indexed yet, both records when an id
// is used twice across chunks; pruning removes pruned records' ids, and a
// chunk indexed after its first records were pruned skips them.
func TestTraceIDIndexChunks(t *testing.T) {
	s := openTest(t)
	checkpoint, _ := testLogKey(t, s)
	next := 0
	for _, n := range []int{1000, 3000, 97, 5000, 1, 2500} {
		appendN(t, s, next, n)
		next += n
	}
	dup := traceEntry(10)
	if _, err := s.AppendTrace([]TraceEntry{dup}); err != nil {
		t.Fatal(err)
	}
	next++ // 11599 records: two chunks indexed, the rest in the tail
	checkpoint()
	var indexed int64
	_ = s.db.View(func(tx *bolt.Tx) error { indexed = getU64(tx.Bucket(bucketTraceLog), keyTraceIndexed); return nil })
	if indexed != 2*idChunk {
		t.Fatalf("indexed up to %d, want %d", indexed, 2*idChunk)
	}
	for _, i := range []int{0, 4095, 4096, 8191, 8192, 11000, next - 2} {
		r, err := s.TraceReceipt(traceEntry(i).ID, -1)
		if err != nil || receiptIndex(r) != int64(i) {
			t.Errorf("receipt of record %d by id: %v, %v", i, r, err)
		}
	}
	if _, err := s.TraceReceipt(dup.ID, -1); !errors.Is(err, ErrTraceAmbiguous) || !strings.Contains(err.Error(), fmt.Sprintf("records 10, %d", next-1)) {
		t.Errorf("an id used twice = %v", err)
	}
	// Prune the first 5000: their ids go, the others stay findable.
	if n, err := s.PruneTrace(traceBase.Add(5000*time.Second), 100000); err != nil || n != 5000 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTraceIDs).ForEach(func(k, _ []byte) error {
			if i := int64(binary.BigEndian.Uint64(k[len(k)-8:])); i < 5000 {
				return fmt.Errorf("the index keeps the id of pruned record %d", i)
			}
			return nil
		})
	})
	if err != nil {
		t.Error(err)
	}
	if r, err := s.TraceReceipt(dup.ID, -1); err != nil || receiptIndex(r) != int64(next-1) {
		t.Errorf("the id used twice, once pruned: %v, %v", r, err)
	}
	if _, err := s.TraceReceipt(traceEntry(4000).ID, -1); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("a pruned record by id = %v", err)
	}
	// Prune into the tail, then complete its chunk: the chunk skips the
	// pruned records.
	if _, err := s.PruneTrace(traceBase.Add(9000*time.Second), 100000); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 20000, 2000)
	checkpoint()
	for _, i := range []int{9000, 11000, 20000, 21999} {
		if _, err := s.TraceReceipt(traceEntry(i).ID, -1); err != nil {
			t.Errorf("receipt of record %d after the chunk was indexed: %v", i, err)
		}
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTraceIDs).ForEach(func(k, _ []byte) error {
			if i := int64(binary.BigEndian.Uint64(k[len(k)-8:])); i < 9000 {
				t.Errorf("the index keeps the id of pruned record %d", i)
			}
			return nil
		})
	})
	wantClean(t, s, nil)
}

// receiptIndex is the index of the record a receipt of either form proves.
func receiptIndex(r tracelog.AnyReceipt) int64 {
	switch r := r.(type) {
	case *tracelog.Receipt:
		return r.Index
	case *tracelog.EvidenceReceipt:
		return r.Index
	}
	return -1
}
