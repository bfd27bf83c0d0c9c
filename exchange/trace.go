package exchange

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/exchange/store"
)

// tracer batches trace entries so that the request path never waits for a
// disk write: entries go into a channel and one goroutine commits them in
// one transaction per batch. If the disk cannot keep up, entries are
// counted as dropped rather than slowing requests; the count is logged.
type tracer struct {
	st        *store.Store
	log       *slog.Logger
	ch        chan store.TraceEntry
	dropped   atomic.Int64
	retention time.Duration
}

const traceQueue = 65536

func newTracer(st *store.Store, log *slog.Logger, retention time.Duration) *tracer {
	return &tracer{st: st, log: log, ch: make(chan store.TraceEntry, traceQueue), retention: retention}
}

// prune deletes entries older than the retention period, in batches so
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
	}
	if total > 0 {
		t.log.Info("pruned old trace entries", "deleted", total, "retention", t.retention)
	}
}

func (t *tracer) add(e store.TraceEntry) {
	select {
	case t.ch <- e:
	default:
		t.dropped.Add(1)
	}
}

func (t *tracer) run(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	t.prune(time.Now())
	batch := make([]store.TraceEntry, 0, 1024)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := t.st.AppendTrace(batch); err != nil {
			t.log.Error("writing trace entries failed", "entries", len(batch), "err", err)
		}
		batch = batch[:0]
		if n := t.dropped.Swap(0); n > 0 {
			t.log.Warn("trace queue full: entries were not recorded", "dropped", n)
		}
	}
	for {
		select {
		case e := <-t.ch:
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		case now := <-prune.C:
			t.prune(now)
		case <-ctx.Done():
			for {
				select {
				case e := <-t.ch:
					batch = append(batch, e)
				default:
					flush()
					return
				}
			}
		}
	}
}
