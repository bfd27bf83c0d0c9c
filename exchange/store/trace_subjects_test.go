package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/tracelog"
)

// hashOf stands for the exchange's keyed hash of subject number n under
// key k.
func hashOf(k uint32, n int) tracelog.Digest {
	return sha256.Sum256(fmt.Appendf(nil, "key %d subject %d", k, n))
}

// subjectEntry is record i, about subject i%7 (none when that is 0),
// hashed with key 1 before record 6000 and key 2 after; consumed by
// RABAT or SALE, served by ETATCIVIL.
func subjectEntry(i int) TraceEntry {
	e := traceEntry(i)
	if n := i % 7; n != 0 {
		e.SubjectKey = 1
		if i >= 6000 {
			e.SubjectKey = 2
		}
		e.SubjectHash = hashOf(e.SubjectKey, n)
	}
	if i%3 == 0 {
		e.Consumer = "MA/MUN/SALE:hq"
	}
	if i%5 == 0 {
		e.Provider, e.Outcome = "", "not_allowed"
	}
	return e
}

func appendSubjects(t testing.TB, s *Store, from, n int) {
	t.Helper()
	var batch []TraceEntry
	for i := from; i < from+n; i++ {
		batch = append(batch, subjectEntry(i))
		if len(batch) == 4096 {
			if _, err := s.AppendTrace(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := s.AppendTrace(batch); err != nil {
		t.Fatal(err)
	}
}

func indexesOf(es []LoggedEntry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Index)
	}
	return out
}

// wantSubject checks that the records about subject n are exactly those
// from kept on that are about it, in log order.
func wantSubject(t *testing.T, s *Store, n, kept, size int) {
	t.Helper()
	got, err := s.TraceBySubject(map[uint32]tracelog.Digest{1: hashOf(1, n), 2: hashOf(2, n)})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i := kept; i < size; i++ {
		if i%7 == n {
			want = append(want, int64(i))
		}
	}
	if !slices.Equal(indexesOf(got), want) {
		t.Fatalf("subject %d: records %v…, want %v… (%d, want %d)", n, head(indexesOf(got)), head(want), len(got), len(want))
	}
}

func head(l []int64) []int64 { return l[:min(len(l), 8)] }

// TestTraceBySubject: the records about a subject are found under both
// keys, in the indexed chunks and in the tail, and nothing else; pruned
// ones leave the index, and a key is in use as long as a record it
// hashed is kept.
func TestTraceBySubject(t *testing.T) {
	s := openTest(t)
	appendSubjects(t, s, 0, 3*idChunk+1000)
	size := 3*idChunk + 1000
	for n := 1; n < 7; n++ {
		wantSubject(t, s, n, 0, size)
	}
	if got, err := s.TraceBySubject(map[uint32]tracelog.Digest{1: hashOf(1, 99)}); err != nil || len(got) != 0 {
		t.Errorf("a subject no request was about: %v, %v", indexesOf(got), err)
	}
	// A hash is only looked for under the key that made it.
	if got, _ := s.TraceBySubject(map[uint32]tracelog.Digest{2: hashOf(1, 3)}); len(got) != 0 {
		t.Errorf("key 1's hash found under key 2: %v", head(indexesOf(got)))
	}
	if _, err := s.PruneTrace(traceBase.Add(7000*time.Second), 100000); err != nil {
		t.Fatal(err)
	}
	wantSubject(t, s, 3, 7000, size)
	// The chunks pruned whole leave the indexes.
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTraceSubjects, bucketTraceMembers} {
			if k, _ := tx.Bucket(b).Cursor().First(); k == nil || binary.BigEndian.Uint64(k) != idChunk {
				return fmt.Errorf("%s begins at %x, want the chunk of record %d", b, k, idChunk)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	for id, want := range map[uint32]bool{1: false, 2: true, 3: false} {
		if used, err := s.SubjectKeyInUse(id); err != nil || used != want {
			t.Errorf("SubjectKeyInUse(%d) = %v, %v; want %v", id, used, err, want)
		}
	}
}

// TestIndexTraceBacklog: a log written before the subject and member
// indexes is indexed at start, and found the same meanwhile.
func TestIndexTraceBacklog(t *testing.T) {
	s := openTest(t)
	appendSubjects(t, s, 0, 40*idChunk+10)
	size := 40*idChunk + 10
	// As an older exchange left it: no subject or member index.
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTraceSubjects, bucketTraceMembers} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketTraceLog).Delete(keyTraceIndexedSubjects)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSubject(t, s, 5, 0, size) // from the records themselves
	appendSubjects(t, s, size, 1) // indexes backlogChunks chunks, no more
	size++
	var indexed int64
	_ = s.db.View(func(tx *bolt.Tx) error {
		indexed = getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects)
		return nil
	})
	if indexed != backlogChunks*idChunk {
		t.Fatalf("one append indexed up to %d, want %d", indexed, backlogChunks*idChunk)
	}
	wantSubject(t, s, 5, 0, size)
	for done := false; !done; {
		var err error
		if done, err = s.IndexTraceBacklog(); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		indexed = getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects)
		return nil
	})
	if indexed != 40*idChunk {
		t.Fatalf("the backlog indexed up to %d, want %d", indexed, 40*idChunk)
	}
	wantSubject(t, s, 5, 0, size)
	page, err := s.TraceByMember(MemberQuery{Member: "MA/MUN/SALE", Limit: 10})
	if err != nil || len(page.Records) != 10 || page.Records[9].Index != 27 {
		t.Fatalf("a member's records after the backlog: %v, %v", indexesOf(page.Records), err)
	}
}

// TestTraceByMember: a member gets the records where it consumes or
// provides, never another's, page by page, within its time bounds and
// for one service if it asks.
func TestTraceByMember(t *testing.T) {
	s := openTest(t)
	size := 2*idChunk + 500
	appendSubjects(t, s, 0, size)
	all := func(q MemberQuery) []LoggedEntry {
		t.Helper()
		var out []LoggedEntry
		for pages := 0; ; pages++ {
			p, err := s.TraceByMember(q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Records...)
			if p.Next == 0 {
				return out
			}
			if p.Next <= q.From || pages > 1000 {
				t.Fatalf("page from %d says next %d", q.From, p.Next)
			}
			q.From = p.Next
		}
	}
	want := func(keep func(i int) bool) []int64 {
		var out []int64
		for i := range size {
			if keep(i) {
				out = append(out, int64(i))
			}
		}
		return out
	}
	sale := all(MemberQuery{Member: "MA/MUN/SALE", Limit: 333})
	if !slices.Equal(indexesOf(sale), want(func(i int) bool { return i%3 == 0 })) {
		t.Errorf("SALE's records: %v… (%d)", head(indexesOf(sale)), len(sale))
	}
	for _, e := range sale {
		if memberOf(e.Consumer) != "MA/MUN/SALE" && memberOf(e.Provider) != "MA/MUN/SALE" {
			t.Fatalf("SALE got record %d, of %s and %s", e.Index, e.Consumer, e.Provider)
		}
	}
	// The provider sees the requests it served, not those refused before.
	served := all(MemberQuery{Member: "MA/GOV/ETATCIVIL", Limit: 1000})
	if !slices.Equal(indexesOf(served), want(func(i int) bool { return i%5 != 0 })) {
		t.Errorf("ETATCIVIL's records: %v… (%d)", head(indexesOf(served)), len(served))
	}
	since, until := traceBase.Add(5000*time.Second), traceBase.Add(8200*time.Second)
	window := all(MemberQuery{Member: "MA/MUN/RABAT", Since: since, Until: until, Slack: time.Minute, Limit: 100})
	if !slices.Equal(indexesOf(window), want(func(i int) bool { return i%3 != 0 && i >= 5000 && i < 8200 })) {
		t.Errorf("RABAT's records in a window: %v… (%d)", head(indexesOf(window)), len(window))
	}
	other := all(MemberQuery{Member: "MA/MUN/RABAT", Service: "MA/GOV/ETATCIVIL/other", Limit: 100})
	if len(other) != 0 {
		t.Errorf("RABAT's records of a service it never called: %v", head(indexesOf(other)))
	}
	if p, err := s.TraceByMember(MemberQuery{Member: "MA/MUN", Limit: 10}); err != nil || len(p.Records) != 0 {
		t.Errorf("a prefix of a member's identifier: %v, %v", head(indexesOf(p.Records)), err)
	}
}

// TestSubjectKeys: keys are numbered, the newest is current, and a
// retired key's sealed bytes go when it is dropped or lost.
func TestSubjectKeys(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, sealed := range []string{"one", "two", "three"} {
		id, err := s.AddSubjectKey(func(uint32) ([]byte, error) { return []byte(sealed), nil }, t0.Add(time.Duration(i)*time.Hour))
		if err != nil || id != uint32(i+1) {
			t.Fatalf("AddSubjectKey = %d, %v", id, err)
		}
	}
	if err := s.DropSubjectKey(3, t0); err == nil {
		t.Error("the current key was dropped")
	}
	if err := s.DropSubjectKey(1, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ForgetSubjectKeys(t0.Add(6 * time.Hour)); err != nil || n != 2 {
		t.Fatalf("ForgetSubjectKeys = %d, %v", n, err)
	}
	keys, err := s.SubjectKeys()
	if err != nil || len(keys) != 3 {
		t.Fatal(keys, err)
	}
	k1, k2, k3 := keys[0], keys[1], keys[2]
	if k1.Sealed != nil || k1.Dropped.IsZero() || !k1.Lost.IsZero() || !k1.Retired.Equal(t0.Add(time.Hour)) {
		t.Errorf("key 1 %+v", k1)
	}
	if k2.Sealed != nil || k2.Lost.IsZero() || !k2.Retired.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("key 2 %+v", k2)
	}
	if k3.Sealed != nil || k3.Lost.IsZero() || !k3.Retired.Equal(t0.Add(6*time.Hour)) {
		t.Errorf("key 3 %+v", k3)
	}
}
