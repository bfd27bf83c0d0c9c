package store

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"
)

// BenchmarkAppendTrace appends records to the trace log of a real state
// file, in batches of the size the exchange's tracer writes at most in one
// transaction, each with a random request id as gateways make them, and
// reports records per second (docs/performance.md). Every batch is one
// committed, synced transaction.
//
//	go test -run '^$' -bench AppendTrace -benchtime 400000x ./exchange/store
func BenchmarkAppendTrace(b *testing.B) {
	const batch = 1024
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	entries := make([]TraceEntry, batch)
	var id [8]byte
	start := time.Now()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		for i := range entries[:n] {
			_, _ = rand.Read(id[:])
			entries[i] = traceEntry(done + i)
			entries[i].ID = hex.EncodeToString(id[:])
		}
		if _, err := s.AppendTrace(entries[:n]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
