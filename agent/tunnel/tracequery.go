package tunnel

import (
	"context"
	"fmt"

	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// TraceQuery asks the exchange, over the control stream, for one page of
// the trace records of this appliance's member: the requests where it was
// the consumer or the provider. A refusal comes back as the exchange's
// *wire.Error.
func (t *Tunnel) TraceQuery(ctx context.Context, q tracelog.TraceQuery) (*tracelog.TraceRecords, error) {
	w := make(chan tracelog.TraceRecords, 1)
	t.mu.Lock()
	if t.queries == nil {
		t.queries = map[uint64]chan tracelog.TraceRecords{}
	}
	t.lastQuery++
	q.ID = t.lastQuery
	t.queries[q.ID] = w
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.queries, q.ID)
		t.mu.Unlock()
	}()
	if err := t.writeControl(wire.FrameTraceQuery, q); err != nil {
		return nil, err
	}
	select {
	case ans := <-w:
		if ans.Error != nil {
			return nil, ans.Error
		}
		return &ans, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("the exchange did not answer the trace query: %w", ctx.Err())
	}
}

// traceRecords hands an answer to the query waiting for it; an answer
// nobody waits for any more is dropped.
func (t *Tunnel) traceRecords(ans tracelog.TraceRecords) {
	t.mu.Lock()
	w := t.queries[ans.ID]
	delete(t.queries, ans.ID)
	t.mu.Unlock()
	if w != nil {
		w <- ans
	}
}

// endQueries answers the queries sent on a connection that went down.
func (t *Tunnel) endQueries() {
	for id, w := range t.queries {
		w <- tracelog.TraceRecords{ID: id, Error: &wire.Error{Code: "exchange_unreachable", Detail: "The tunnel went down before the exchange answered."}}
		delete(t.queries, id)
	}
}
