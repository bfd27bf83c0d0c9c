package exchange

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/tracelog"
)

// tracer keeps the promise that every request the exchange carries is
// traced: a request reserves a place in the trace queue before it is
// forwarded, and is refused (trace_unavailable) when none frees within
// cfg.TraceQueueWait. A reserved place is released only once its record
// is on disk, so the queue bounds both the requests in flight and the
// records waiting to be written; a disk that cannot keep up fills it and
// requests are refused, never carried untraced. One goroutine writes the
// records in one transaction per batch, signs a checkpoint when the log
// grew, and prunes records past the retention period.
type tracer struct {
	st     *store.Store
	log    *slog.Logger
	m      *exchangeMetrics
	signer note.Signer
	// queue is how many places there are, wait how long a request waits
	// for one, every how often a checkpoint is signed, retention how long
	// records are kept; flushEvery, pruneEvery and drainWait (how long a
	// stop waits for reserved records) are fixed, but tests shorten them.
	queue                             int
	wait, every, retention            time.Duration
	flushEvery, pruneEvery, drainWait time.Duration
	// append writes a batch: the store's, or a test's stalled disk.
	append func([]store.TraceEntry) (int64, error)
	wake   chan struct{} // a full batch is waiting
	// subjects are destroyed once no record they hashed is kept, which
	// may be only inFlight (the longest a request lasts) after they were
	// retired; nil in tests without them.
	subjects *subjectKeyring
	inFlight time.Duration

	mu      sync.Mutex         // guards what follows
	held    int                // places reserved and not yet written
	pending []store.TraceEntry // records given back, waiting for the writer
	freed   chan struct{}      // closed, and replaced, when places are released
	closed  bool               // stopping: no new reservation
	failing bool               // the last write failed

	ev evidenceQueue // the appliances' checked evidence batches (evidence.go)
}

// maxTraceBatch bounds the records written in one transaction.
const maxTraceBatch = 4096

func newTracer(st *store.Store, log *slog.Logger, m *exchangeMetrics, signer note.Signer, queue int, wait, every, retention time.Duration) *tracer {
	return &tracer{st: st, log: log, m: m, signer: signer, queue: queue, wait: wait, every: every, retention: retention,
		flushEvery: 200 * time.Millisecond, pruneEvery: min(time.Hour, max(retention/10, time.Second)), drainWait: 20 * time.Second,
		append: st.AppendTrace, freed: make(chan struct{}), wake: make(chan struct{}, 1), ev: evidenceQueue{append: st.AppendEvidence}}
}

// reserve takes a place in the trace queue, waiting up to t.wait for one.
func (t *tracer) reserve() bool {
	t.mu.Lock()
	if !t.closed && t.held < t.queue {
		t.held++
		t.mu.Unlock()
		return true
	}
	freed, closed := t.freed, t.closed
	t.mu.Unlock()
	if closed {
		return false
	}
	t.m.traceQueue.WithLabelValues("waited").Inc()
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	for {
		select {
		case <-freed:
		case <-timer.C:
			t.m.traceQueue.WithLabelValues("refused").Inc()
			return false
		}
		t.mu.Lock()
		if !t.closed && t.held < t.queue {
			t.held++
			t.mu.Unlock()
			return true
		}
		freed, closed = t.freed, t.closed
		t.mu.Unlock()
		if closed {
			return false
		}
	}
}

// add gives back a reserved place with its record, to be written. It
// never waits.
func (t *tracer) add(e store.TraceEntry) {
	t.mu.Lock()
	t.pending = append(t.pending, e)
	n := len(t.pending)
	t.mu.Unlock()
	if n >= maxTraceBatch {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// reserveTrace takes the request's place in the trace queue, or refuses
// it: a request the exchange cannot trace is not carried.
func (c *routeCall) reserveTrace() bool {
	if c.x.trace.reserve() {
		c.traced = true
		return true
	}
	c.refuse(problem.TraceUnavailable, fmt.Sprintf("The exchange's trace has no room for this request's record (its queue of %d is full, or the exchange is stopping); it was not carried.", c.x.trace.queue), time.Second)
	return false
}

// flush writes the records given back so far, in batches, and releases
// their places once written. A failed write keeps them, and their places,
// for the next try: a reserved record is written or the exchange says it
// was not.
func (t *tracer) flush() {
	defer t.flushEvidence()
	for {
		t.mu.Lock()
		batch := t.pending[:min(len(t.pending), maxTraceBatch)]
		t.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		size, err := t.append(batch)
		t.mu.Lock()
		if err != nil {
			wasFailing := t.failing
			t.failing = true
			t.mu.Unlock()
			t.m.traceWriteErrors.Inc()
			if !wasFailing {
				t.log.Error("writing trace records failed; they are kept and tried again, and requests are refused once the trace queue is full", "records", len(batch), "err", err)
			}
			return
		}
		if t.failing {
			t.log.Info("writing trace records works again")
		}
		t.failing = false
		t.pending = append(t.pending[:0], t.pending[len(batch):]...)
		t.held -= len(batch)
		close(t.freed)
		t.freed = make(chan struct{})
		t.mu.Unlock()
		t.m.traceRecords.Set(float64(size))
	}
}

// checkpoint signs the tree if it grew since the last checkpoint.
func (t *tracer) checkpoint(now time.Time) {
	size, err := t.st.Checkpoint(func(size int64, root tlog.Hash) ([]byte, error) {
		return tracelog.Sign(tracelog.Checkpoint{Origin: t.signer.Name(), Size: size, Root: root}, t.signer)
	})
	if err != nil {
		t.log.Error("signing a trace checkpoint failed", "err", err)
		return
	}
	if size > 0 {
		t.m.traceCheckpoint.Set(float64(now.Unix()))
	}
}

// prune deletes records older than the retention period, in batches so
// that request tracing is never held up for long.
func (t *tracer) prune(now time.Time) {
	const batch = 10000
	total := 0
	for {
		n, err := t.st.PruneTrace(now.Add(-t.retention), batch)
		total += n
		if err != nil {
			t.log.Error("pruning the trace failed", "err", err)
			return
		}
		if n < batch {
			break
		}
		t.flush() // between batches, so that the queue keeps moving
	}
	if total > 0 {
		t.log.Info("pruned old trace records; the tree's hashes and the checkpoints stay", "deleted", total, "retention", t.retention)
	}
	if t.subjects != nil {
		t.subjects.dropUnused(now, t.inFlight)
	}
}

func (t *tracer) run(ctx context.Context) {
	if st, err := t.st.TraceState(); err == nil {
		t.m.traceRecords.Set(float64(st.Size))
	}
	// A log written before the subject and member indexes is indexed
	// once, a few chunks per transaction, the queue moving between them;
	// lookups are right meanwhile, only slower.
	for done := false; !done && ctx.Err() == nil; t.flush() {
		var err error
		if done, err = t.st.IndexTraceBacklog(); err != nil {
			t.log.Error("indexing the trace log by subject and member failed; lookups read the records instead", "err", err)
			break
		}
	}
	flush := time.NewTicker(t.flushEvery)
	defer flush.Stop()
	cp := time.NewTicker(t.every)
	defer cp.Stop()
	prune := time.NewTicker(t.pruneEvery)
	defer prune.Stop()
	t.prune(time.Now())
	for {
		select {
		case <-t.wake:
			t.flush()
		case <-flush.C:
			t.flush()
		case now := <-cp.C:
			t.flush()
			t.checkpoint(now)
		case now := <-prune.C:
			t.prune(now)
		case <-ctx.Done():
			t.drain()
			return
		}
	}
}

// drain runs when the exchange stops: no request is let in any more, and
// the records of the requests that reserved a place are waited for
// (their streams close with the sessions) and written; a last checkpoint
// covers them.
func (t *tracer) drain() {
	t.mu.Lock()
	t.closed = true
	close(t.freed)
	t.freed = make(chan struct{})
	t.mu.Unlock()
	deadline := time.Now().Add(t.drainWait)
	for {
		t.flush()
		t.mu.Lock()
		held, written := t.held, len(t.pending) == 0
		t.mu.Unlock()
		if held == 0 {
			break
		}
		if time.Now().After(deadline) {
			if written {
				t.log.Error("stopping with requests still in flight: their trace records are not written", "records", held)
			} else {
				t.log.Error("stopping with trace records that could not be written", "records", held)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.checkpoint(time.Now())
}
