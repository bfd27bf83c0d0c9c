package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/mod/sumdb/note"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/boltdb"
	"github.com/babgate/bab/tracelog"
)

// testTracer is a tracer on a real state file with a queue of size
// places, whose writes go through write (nil: straight to the store).
func testTracer(t *testing.T, size int) (*tracer, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	boltdb.CheckOnCleanup(t, st.DB())
	skey, vkey, err := tracelog.NewKey("exchange.test/trace/1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetTraceLogKey(skey, vkey); err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	tr := newTracer(st, slog.New(slog.NewTextHandler(io.Discard, nil)), monitorExchange().metrics, signer, size, 50*time.Millisecond, time.Hour, 24*time.Hour)
	tr.flushEvery = 5 * time.Millisecond
	return tr, st
}

func entry(i int) store.TraceEntry {
	return store.TraceEntry{ID: fmt.Sprintf("r%d", i), At: time.Now().UTC(), Consumer: "MA/MUN/RABAT:hq", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Outcome: "ok"}
}

// TestTracerRefusesRatherThanDrops blocks the writer, as a disk that
// cannot keep up would: requests that hold places are written once it
// moves again, a request that finds no place is refused after the wait,
// a failed write is tried again, and a stop writes every reserved record
// and signs a checkpoint over them.
func TestTracerRefusesRatherThanDrops(t *testing.T) {
	tr, st := testTracer(t, 3)
	gate := make(chan struct{})
	var failures atomic.Int32
	failures.Store(2)
	tr.append = func(b []store.TraceEntry) (int64, error) {
		<-gate
		if failures.Add(-1) >= 0 {
			return 0, errors.New("disk full")
		}
		return st.AppendTrace(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx); close(done) }()

	for i := range 3 {
		if !tr.reserve() {
			t.Fatalf("reservation %d of 3 refused", i)
		}
		tr.add(entry(i))
	}
	start := time.Now()
	if tr.reserve() {
		t.Fatal("a fourth reservation was given while the writer is blocked and the queue holds 3")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("refused after %s, before the wait of 50ms", d)
	}
	m := tr.m.traceQueue
	if w, r := value(m.WithLabelValues("waited")), value(m.WithLabelValues("refused")); w != 1 || r != 1 {
		t.Errorf("trace queue metric: waited %v, refused %v; want 1 and 1", w, r)
	}
	// The disk moves again but fails twice: the records are kept and
	// written on the next tries, and their places come free.
	close(gate)
	waitUntil(t, func() bool { return tr.reserve() })
	if n := value(tr.m.traceWriteErrors); n != 2 {
		t.Errorf("write errors counted: %v, want 2", n)
	}
	// One request still in flight when the exchange stops: its record is
	// written before the tracer ends, and the last checkpoint covers it.
	cancel()
	time.Sleep(30 * time.Millisecond)
	if tr.reserve() {
		t.Error("a reservation was given while stopping")
	}
	tr.add(entry(3))
	<-done
	list, err := st.Trace(10)
	if err != nil || len(list) != 4 {
		t.Fatalf("trace after the stop: %d records, %v; want 4", len(list), err)
	}
	if size, _, _ := st.LatestCheckpoint(); size != 4 {
		t.Errorf("the last checkpoint covers %d records, want 4", size)
	}
	if rep, err := st.VerifyTrace(nil); err != nil || len(rep.Problems) > 0 {
		t.Errorf("VerifyTrace = %+v, %v", rep, err)
	}
}

// TestTracerCheckpoints: a checkpoint is signed when the log grew, and
// none when it did not.
func TestTracerCheckpoints(t *testing.T) {
	tr, st := testTracer(t, 10)
	tr.every = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx); close(done) }()
	for i := range 5 {
		if !tr.reserve() {
			t.Fatal("refused")
		}
		tr.add(entry(i))
	}
	waitUntil(t, func() bool { size, _, _ := st.LatestCheckpoint(); return size == 5 })
	if value(tr.m.traceCheckpoint) == 0 || value(tr.m.traceRecords) != 5 {
		t.Errorf("metrics: checkpoint at %v, %v records", value(tr.m.traceCheckpoint), value(tr.m.traceRecords))
	}
	time.Sleep(60 * time.Millisecond)
	cancel()
	<-done
	rep, err := st.VerifyTrace(nil)
	if err != nil || rep.Checkpoints != 1 || len(rep.Problems) > 0 {
		t.Errorf("an unchanged log was checkpointed again, or does not verify: %+v, %v", rep, err)
	}
}

func waitUntil(t *testing.T, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// value reads a counter or a gauge.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
