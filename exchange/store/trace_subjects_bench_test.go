package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/babgate/bab/tracelog"
)

// benchLog fills a real state file with n records over ten days, as an
// exchange would write them: random request ids, fifty consumer members
// and ten providers, nine requests in ten about one of 500,000 people,
// whose hashes a key rotation halfway changes; the person the benchmark
// looks for is the subject of one request in 50,000. It returns the
// store and that person's hashes under both keys.
func benchLog(b *testing.B, n int) (*Store, map[uint32]tracelog.Digest) {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	rng := mrand.New(mrand.NewPCG(1, 2))
	person := func(key uint32, p int) tracelog.Digest { return hashOf(key, p) }
	const target = -1
	step := 10 * 24 * time.Hour / time.Duration(n)
	batch := make([]TraceEntry, 0, 4096)
	var id [8]byte
	start := time.Now()
	for i := range n {
		_, _ = rand.Read(id[:])
		e := TraceEntry{ID: hex.EncodeToString(id[:]), At: traceBase.Add(time.Duration(i) * step),
			Consumer: fmt.Sprintf("MA/MUN/C%02d:hq", rng.IntN(50)), ConsumerSystem: "complaint-desk",
			Provider: fmt.Sprintf("MA/GOV/P%d:dc1", rng.IntN(10)), Service: "MA/GOV/P0/civil-status",
			Method: "GET", Outcome: "ok", Status: 200, ResponseBytes: 517, Duration: 3 * time.Millisecond}
		key := uint32(1)
		if i >= n/2 {
			key = 2
		}
		switch {
		case i%50_000 == 7:
			e.SubjectKey, e.SubjectHash = key, person(key, target)
		case rng.IntN(10) != 0:
			e.SubjectKey, e.SubjectHash = key, person(key, rng.IntN(500_000))
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.AppendTrace(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	took := time.Since(start)
	var size int64
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		size = fi.Size()
	}
	b.Logf("%d records written in %s (%.0f records/s, subject and member indexes included); state file %d MB", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), size>>20)
	return s, map[uint32]tracelog.Digest{1: person(1, target), 2: person(2, target)}
}

// BenchmarkTraceBySubject: a subject report's lookup over a million
// records in a real state file (docs/performance.md): the budget is
// 100 ms.
//
//	go test -run '^$' -bench TraceBySubject -benchtime 20x ./exchange/store
func BenchmarkTraceBySubject(b *testing.B) {
	const n = 1_000_000
	s, hashes := benchLog(b, n)
	var found int
	for b.Loop() {
		got, err := s.TraceBySubject(hashes)
		if err != nil {
			b.Fatal(err)
		}
		found = len(got)
	}
	if found != n/50_000 {
		b.Fatalf("found %d records about the subject, want %d", found, n/50_000)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/query")
	b.Logf("subject report lookup over %d records: %s per query (%d records found)", n, per, found)
}

// BenchmarkTraceByMember: a member's last day, first page (1,000
// records), over the same million records.
//
//	go test -run '^$' -bench TraceByMember -benchtime 20x ./exchange/store
func BenchmarkTraceByMember(b *testing.B) {
	const n = 1_000_000
	s, _ := benchLog(b, n)
	q := MemberQuery{Member: "MA/MUN/C07", Since: traceBase.Add(9 * 24 * time.Hour), Slack: 6 * time.Minute, Limit: MaxMemberPage}
	var got int
	for b.Loop() {
		p, err := s.TraceByMember(q)
		if err != nil {
			b.Fatal(err)
		}
		got = len(p.Records)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/query")
	b.Logf("a member's last day over %d records: %s per page of %d", n, per, got)
}
