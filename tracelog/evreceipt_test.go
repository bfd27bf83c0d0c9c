package tracelog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/evidence"
)

func (l *memLog) addLeaf(t testing.TB, b []byte) int64 {
	t.Helper()
	hs, err := tlog.StoredHashes(int64(len(l.records)), b, l)
	if err != nil {
		t.Fatal(err)
	}
	l.records = append(l.records, b)
	l.hashes = append(l.hashes, hs...)
	return int64(len(l.records) - 1)
}

// entryOf is side's entry of the sample record's request.
func entryOf(side evidence.Side, id string) *evidence.Entry {
	r := sample()
	var salt evidence.Salt
	salt[0] = 9
	return &evidence.Entry{Side: side, At: r.At, ID: id, Consumer: r.Consumer, Provider: r.Provider, Service: r.Service, Method: r.Method,
		Session: [16]byte{7}, Seq: 3, Target: evidence.Target(salt, "GET", "/citizens/42", ""),
		RequestHead: evidence.RequestHead(salt, []byte("a"), []byte("h")), RequestBody: evidence.BodyDigest(salt, true, nil),
		ResponseHead: evidence.ResponseHead(salt, []byte("200")), ResponseBody: evidence.BodyDigest(salt, false, []byte(`{"id":42}`))}
}

type testBatch struct {
	leaf    []byte
	index   int64
	entries [][]byte
}

// logBatch signs entries as appliance and appends the batch leaf.
func (l *memLog) logBatch(t testing.TB, appliance string, entries ...*evidence.Entry) testBatch {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := evidence.NewSigner(appliance, k)
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	for _, e := range entries {
		raw = append(raw, e.AppendBinary(nil))
	}
	sealed, err := s.Seal(raw, 0, sample().At.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	leaf := (&BatchRecord{At: sample().At.Add(2 * time.Second), Appliance: appliance, Policy: 4, Cert: sealed.Cert, Batch: sealed.Head}).AppendBinary(nil)
	return testBatch{leaf: leaf, index: l.addLeaf(t, leaf), entries: raw}
}

// evidenceReceipt makes the receipt of record i with the entries at
// positions of each batch, under a checkpoint of the whole log.
func (l *memLog) evidenceReceipt(t testing.TB, s note.Signer, i int64, batches []testBatch, positions [][]int) *EvidenceReceipt {
	t.Helper()
	base := l.receipt(t, s, int64(len(l.records)), i)
	r := &EvidenceReceipt{Record: base.Record, Index: i, Proof: base.Proof, Checkpoint: base.Checkpoint}
	for j, b := range batches {
		rb := ReceiptBatch{Leaf: b.leaf, Index: b.index, Proof: l.receipt(t, s, int64(len(l.records)), b.index).Proof}
		for _, p := range positions[j] {
			path, err := evidence.Prove(b.entries, p)
			if err != nil {
				t.Fatal(err)
			}
			rb.Entries = append(rb.Entries, ReceiptEntry{Entry: b.entries[p], Position: uint64(p), Path: path})
		}
		r.Batches = append(r.Batches, rb)
	}
	return r
}

// evidenceLog is a log with the sample request's record (index 3) and the
// batches of both its appliances, each holding other requests' entries.
func evidenceLog(t testing.TB) (*memLog, note.Signer, note.Verifier, *EvidenceReceipt) {
	s, v := testKey(t, "exchange.example.gov/trace/test")
	l := &memLog{}
	for i := range 5 {
		l.add(t, numbered(i))
	}
	id := numbered(3).ID
	cons := l.logBatch(t, "MA/MUN/RABAT:hq", entryOf(evidence.Consumer, "a"), entryOf(evidence.Consumer, "b"), entryOf(evidence.Consumer, id), entryOf(evidence.Consumer, "c"))
	l.add(t, numbered(5))
	prov := l.logBatch(t, "MA/GOV/ETATCIVIL:dc1", entryOf(evidence.Provider, id), entryOf(evidence.Provider, "d"))
	return l, s, v, l.evidenceReceipt(t, s, 3, []testBatch{cons, prov}, [][]int{{2}, {0}})
}

// TestEvidenceReceipt: a receipt with both appliances' evidence verifies
// with the log key alone and gives each side's entry of the request, its
// batch and key; it holds nothing of the batches' other requests.
func TestEvidenceReceipt(t *testing.T) {
	_, _, v, r := evidenceLog(t)
	b := r.Marshal()
	parsed, err := ParseAnyReceipt(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsed.Verify(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Record.ID != numbered(3).ID || len(got.Evidence) != 2 {
		t.Fatalf("verified %+v", got)
	}
	c, p := got.Evidence[0], got.Evidence[1]
	if c.Entry.Side != evidence.Consumer || p.Entry.Side != evidence.Provider || c.Position != 2 || p.Position != 0 ||
		c.Batch.Appliance != "MA/MUN/RABAT:hq" || p.Cert.Appliance != "MA/GOV/ETATCIVIL:dc1" || c.Policy != 4 {
		t.Fatalf("evidence %+v", got.Evidence)
	}
	if strings.Count(string(b), "\nentry ") != 2 {
		t.Fatalf("the receipt carries other entries than the request's:\n%s", b)
	}
	t.Logf("a receipt with evidence, %d bytes:\n%s", len(b), b)
}

// TestEvidenceReceiptEveryByteChanged: changing any byte of a receipt
// with evidence makes it fail.
func TestEvidenceReceiptEveryByteChanged(t *testing.T) {
	_, _, v, r := evidenceLog(t)
	good := r.Marshal()
	for i := range good {
		for _, c := range []byte{good[i] ^ 0x01, 'A', '\n', ' '} {
			if c == good[i] {
				continue
			}
			bad := append([]byte(nil), good...)
			bad[i] = c
			got, err := ParseAnyReceipt(bad)
			if err == nil {
				_, err = got.Verify(v)
			}
			if err == nil {
				t.Fatalf("byte %d changed from %q to %q: the receipt still verifies:\n%s", i, good[i], c, bad)
			}
		}
	}
}

// TestEvidenceReceiptRefusals: evidence that is not the request's, not in
// its batch, or in a batch that does not verify is refused.
func TestEvidenceReceiptRefusals(t *testing.T) {
	l, s, v, _ := evidenceLog(t)
	id := numbered(3).ID
	other := l.logBatch(t, "MA/MUN/RABAT:hq", entryOf(evidence.Consumer, "zz"), entryOf(evidence.Consumer, id))
	last := l.logBatch(t, "MA/MUN/RABAT:hq", entryOf(evidence.Consumer, id))
	cases := map[string]*EvidenceReceipt{
		"another request's entry": l.evidenceReceipt(t, s, 3, []testBatch{other}, [][]int{{0}}),
	}
	// The entry's path under another position.
	moved := l.evidenceReceipt(t, s, 3, []testBatch{other}, [][]int{{1}})
	moved.Batches[0].Entries[0].Position = 0
	cases["an entry at another place"] = moved
	// A leaf whose batch is signed by a key its certificate does not
	// certify: swap in the certificate of another batch.
	var lr, or BatchRecord
	_ = lr.UnmarshalBinary(last.leaf)
	_ = or.UnmarshalBinary(other.leaf)
	lr.Cert = or.Cert
	forgedLeaf := lr.AppendBinary(nil)
	idx := l.addLeaf(t, forgedLeaf)
	forged := l.evidenceReceipt(t, s, 3, []testBatch{{leaf: forgedLeaf, index: idx, entries: last.entries}}, [][]int{{0}})
	cases["a batch not signed by its certified key"] = forged
	// An entry in which the consumer speaks for the provider.
	liar := l.logBatch(t, "MA/MUN/RABAT:hq", entryOf(evidence.Provider, id))
	cases["an entry for another appliance"] = l.evidenceReceipt(t, s, 3, []testBatch{liar}, [][]int{{0}})
	for name, r := range cases {
		parsed, err := ParseAnyReceipt(r.Marshal())
		if err == nil {
			_, err = parsed.Verify(v)
		}
		if err == nil {
			t.Errorf("%s: verifies", name)
			continue
		}
		if !errors.Is(err, ErrOtherRequest) && !errors.Is(err, evidence.ErrNotIncluded) && !errors.Is(err, evidence.ErrBatch) && !errors.Is(err, evidence.ErrCertificate) {
			t.Errorf("%s: error %v is none of the expected", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TestBatchRecordEncoding: a batch leaf round-trips and its one encoding
// is the only one read.
func TestBatchRecordEncoding(t *testing.T) {
	l := &memLog{}
	b := l.logBatch(t, "MA/MUN/RABAT:hq", entryOf(evidence.Consumer, "x"))
	var r BatchRecord
	if err := r.UnmarshalBinary(b.leaf); err != nil || !bytes.Equal(r.AppendBinary(nil), b.leaf) || LeafKind(b.leaf) != BatchLeaf {
		t.Fatal(err)
	}
	if _, _, err := r.Open(); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"a record":  mustRecord(t),
		"trailing":  append(append([]byte(nil), b.leaf...), 0),
		"truncated": b.leaf[:len(b.leaf)-1],
	} {
		if err := r.UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var rec Record
	if err := rec.UnmarshalBinary(b.leaf); err == nil {
		t.Error("a batch leaf reads as a record")
	}
}

func mustRecord(t *testing.T) []byte {
	b, err := (&Record{At: time.Now()}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzEvidenceReceipt: whatever a receipt file holds, reading and
// verifying never panics, and a receipt that reads is canonical.
func FuzzEvidenceReceipt(f *testing.F) {
	_, _, v, r := evidenceLog(f)
	good := r.Marshal()
	f.Add(good)
	f.Add([]byte(EvidenceReceiptHeader + "\nrecord 0 AQ==\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseAnyReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("a receipt that reads is not canonical:\n%q", b)
		}
		if got, err := r.Verify(v); err == nil && !bytes.Equal(b, good) && len(got.Evidence) == 2 {
			t.Fatalf("a receipt other than the one made verifies with both sides' evidence:\n%s", b)
		}
	})
}

// FuzzBatchRecord: a batch leaf that reads encodes to its bytes.
func FuzzBatchRecord(f *testing.F) {
	l := &memLog{}
	f.Add(l.logBatch(f, "MA/MUN/RABAT:hq", entryOf(evidence.Consumer, "x")).leaf)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r BatchRecord
		if r.UnmarshalBinary(b) != nil {
			return
		}
		if !bytes.Equal(r.AppendBinary(nil), b) {
			t.Fatalf("a batch leaf that reads does not encode to its bytes")
		}
		_, _, _ = r.Open()
	})
}
