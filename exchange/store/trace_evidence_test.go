package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/tracelog"
)

// testBatch is what an appliance would send as its evidence of the
// requests of records ids, as side.
func testBatch(t testing.TB, side evidence.Side, ids ...int) EvidenceBatch {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	appliance := "MA/MUN/RABAT:hq"
	if side == evidence.Provider {
		appliance = "MA/GOV/ETATCIVIL:dc1"
	}
	s, err := evidence.NewSigner(appliance, k)
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	for _, i := range ids {
		r := traceEntry(i)
		e := evidence.Entry{Side: side, At: r.At, ID: r.ID, Consumer: r.Consumer, Provider: r.Provider, Service: r.Service, Method: r.Method,
			Seq: uint64(i + 1), RequestHead: evidence.Digest{1}, RequestBody: evidence.Digest{2}}
		raw = append(raw, e.AppendBinary(nil))
	}
	sealed, err := s.Seal(raw, 0, traceBase)
	if err != nil {
		t.Fatal(err)
	}
	return EvidenceBatch{Leaf: tracelog.BatchRecord{At: traceBase.Add(time.Duration(ids[len(ids)-1]) * time.Second), Appliance: appliance, Policy: 3,
		Cert: sealed.Cert, Batch: sealed.Head}, Key: sealed.Key, Number: sealed.Number, Entries: raw}
}

// TestEvidenceInTheLog: batches are leaves of the log, logged once however
// often they come; a receipt of a request carries both appliances'
// evidence of it, and verifies; trace verify checks the batches; the
// listing shows only records.
func TestEvidenceInTheLog(t *testing.T) {
	s := openTest(t)
	checkpoint, v := testLogKey(t, s)
	appendN(t, s, 0, 4)
	cons, prov := testBatch(t, evidence.Consumer, 1, 2, 3), testBatch(t, evidence.Provider, 2)
	logged, size, err := s.AppendEvidence([]EvidenceBatch{cons, prov})
	if err != nil || size != 6 || logged[0].Index != 4 || logged[1].Index != 5 || logged[0].Again {
		t.Fatalf("AppendEvidence = %+v, %d, %v", logged, size, err)
	}
	again, size, err := s.AppendEvidence([]EvidenceBatch{prov})
	if err != nil || size != 6 || again[0].Index != 5 || !again[0].Again {
		t.Fatalf("a batch sent again = %+v, %d, %v", again, size, err)
	}
	appendN(t, s, 4, 2)
	checkpoint()

	r, err := s.TraceReceipt(traceEntry(2).ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	er, ok := r.(*tracelog.EvidenceReceipt)
	if !ok || len(er.Batches) != 2 || len(er.Batches[0].Entries) != 1 || er.Batches[0].Entries[0].Position != 1 {
		t.Fatalf("receipt %T %+v", r, r)
	}
	parsed, err := tracelog.ParseAnyReceipt(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsed.Verify(v)
	if err != nil || len(got.Evidence) != 2 || got.Index != 2 {
		t.Fatalf("verify: %v %+v", err, got)
	}
	if a := got.Agreement(); !strings.Contains(a, "agrees") {
		t.Errorf("agreement: %s", a)
	}
	// A request with only the consumer's evidence; one with none.
	if r, _ := s.TraceReceipt(traceEntry(3).ID, -1); len(r.(*tracelog.EvidenceReceipt).Batches) != 1 {
		t.Errorf("receipt of record 3: %+v", r)
	}
	if r, _ := s.TraceReceipt(traceEntry(0).ID, -1); r == nil {
		t.Error("no receipt of record 0")
	} else if _, ok := r.(*tracelog.Receipt); !ok {
		t.Errorf("receipt of a record without evidence is %T", r)
	}
	if _, err := s.TraceReceipt("", 4); err == nil {
		t.Error("a receipt of a batch leaf as if it were a record")
	}
	rep := wantClean(t, s, v)
	if rep.Records != 8 || rep.Batches != 2 || rep.Entries != 4 {
		t.Errorf("report %+v", rep)
	}
	list, err := s.Trace(100)
	if err != nil || len(list) != 6 {
		t.Errorf("listing: %d records, %v", len(list), err)
	}
}

// TestEvidenceTampered: an entry kept beside the log, or a batch leaf,
// changed in the file is named by trace verify.
func TestEvidenceTampered(t *testing.T) {
	for name, edit := range map[string]func(tx *bolt.Tx) error{
		"an entry kept beside the log": func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEvidenceEntries)
			v := clone(b.Get(u64(4)))
			v[len(v)-1] ^= 1
			return b.Put(u64(4), v)
		},
		"a batch leaf": func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTraceRecords)
			v := clone(b.Get(u64(4)))
			v[len(v)-3] ^= 1
			return b.Put(u64(4), v)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := openTest(t)
			checkpoint, v := testLogKey(t, s)
			appendN(t, s, 0, 4)
			if _, _, err := s.AppendEvidence([]EvidenceBatch{testBatch(t, evidence.Consumer, 1, 2)}); err != nil {
				t.Fatal(err)
			}
			checkpoint()
			wantClean(t, s, v)
			if err := s.db.Update(edit); err != nil {
				t.Fatal(err)
			}
			rep, _ := s.VerifyTrace(v)
			if len(rep.Problems) == 0 || rep.Problems[0].Index != 4 {
				t.Fatalf("problems %+v", rep.Problems)
			}
			t.Logf("%s: %s", name, rep.Problems[0].Problem)
		})
	}
}

// TestEvidencePruned: past the retention period a batch leaf goes with its
// entries, its ids and its name; the log still verifies.
func TestEvidencePruned(t *testing.T) {
	s := openTest(t)
	checkpoint, v := testLogKey(t, s)
	appendN(t, s, 0, 3)
	b := testBatch(t, evidence.Consumer, 1)
	if _, _, err := s.AppendEvidence([]EvidenceBatch{b}); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 3, 3)
	checkpoint()
	if n, err := s.PruneTrace(traceBase.Add(3*time.Second), 100); err != nil || n != 4 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEvidenceEntries).Stats().KeyN != 0 || tx.Bucket(bucketEvidenceBatches).Stats().KeyN != 0 {
			t.Error("a pruned batch's entries or name are kept")
		}
		return nil
	})
	rep := wantClean(t, s, v)
	if rep.Pruned != 4 {
		t.Errorf("report %+v", rep)
	}
}

// TestEvidenceIndexedInChunks: once their chunk of the id index is
// written, a request's evidence is found through it, as its record is.
func TestEvidenceIndexedInChunks(t *testing.T) {
	s := openTest(t)
	checkpoint, v := testLogKey(t, s)
	appendN(t, s, 0, 10)
	if _, _, err := s.AppendEvidence([]EvidenceBatch{testBatch(t, evidence.Consumer, 5, 6), testBatch(t, evidence.Provider, 5)}); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 10, idChunk)
	checkpoint()
	r, err := s.TraceReceipt(traceEntry(5).ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Verify(v)
	if err != nil || len(got.Evidence) != 2 {
		t.Fatalf("%v %d", err, len(got.Evidence))
	}
}

// BenchmarkAppendEvidence is BenchmarkAppendTrace with the appliances'
// evidence: for every 1,024 requests, their records and both appliances'
// batches of 1,024 entries, as the exchange writes them; it reports
// requests per second, to compare with BenchmarkAppendTrace's records/s.
//
//	go test -run '^$' -bench 'Append(Trace|Evidence)' -benchtime 200000x ./exchange/store
func BenchmarkAppendEvidence(b *testing.B) {
	const batch = 1024
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	entries := make([]TraceEntry, batch)
	ids := make([]int, batch)
	var elapsed time.Duration
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		for i := range entries[:n] {
			entries[i] = traceEntry(done + i)
			ids[i] = done + i
		}
		cons, prov := testBatch(b, evidence.Consumer, ids[:n]...), testBatch(b, evidence.Provider, ids[:n]...)
		start := time.Now()
		if _, err := s.AppendTrace(entries[:n]); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.AppendEvidence([]EvidenceBatch{cons, prov}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
}
