package tracelog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/babgate/bab/wire"
)

// The messages of a member's trace query on an appliance's control
// stream (frames wire.FrameTraceQuery and wire.FrameTraceRecords).

// TraceQuery asks the exchange for the trace records of the appliance's
// own member: the requests where it is the consumer or the provider. The
// exchange takes the member from the tunnel's certificate, never from the
// message.
type TraceQuery struct {
	// ID matches the answer to the question: several may be in flight.
	ID uint64 `json:"id"`
	// Member, when set, must be the tunnel's member; the exchange refuses
	// any other (an appliance sees its own member's records only).
	Member string `json:"member,omitempty"`
	// Since and Until bound when the requests reached the exchange; zero:
	// no bound.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Service keeps the records of one service; "" all.
	Service string `json:"service,omitempty"`
	// From is where the page starts: 0, or the Next of the page before.
	From int64 `json:"from,omitempty"`
	// Limit is the most records wanted, 1 to MaxTracePage (0: the most).
	Limit int `json:"limit,omitempty"`
}

// MaxTracePage bounds the records of one TraceRecords.
const MaxTracePage = 1000

// TraceRecords answers a TraceQuery: a page of records in the log's
// order, or why the exchange refused.
type TraceRecords struct {
	ID      uint64        `json:"id"`
	Records []TraceRecord `json:"records,omitempty"`
	// Next is where the next page starts (TraceQuery.From); 0 when there
	// is no more.
	Next  int64       `json:"next,omitempty"`
	Error *wire.Error `json:"error,omitempty"`
}

// TraceRecord is one record of the exchange's trace log and its place in
// it (for a receipt). The exchange leaves the subject's keyed hash out.
type TraceRecord struct {
	Index int64 `json:"index"`
	Record
}

// UnmarshalJSON refuses a page larger than MaxTracePage or a negative
// cursor, so that no caller has to check.
func (q *TraceQuery) UnmarshalJSON(b []byte) error {
	type plain TraceQuery
	if err := json.Unmarshal(b, (*plain)(q)); err != nil {
		return err
	}
	if q.Limit < 0 || q.Limit > MaxTracePage || q.From < 0 {
		return fmt.Errorf("%w: trace query limit %d or from %d out of range (limit 0 to %d, from 0 or more)", wire.ErrOutOfRange, q.Limit, q.From, MaxTracePage)
	}
	return nil
}

// UnmarshalJSON refuses a page larger than MaxTracePage.
func (r *TraceRecords) UnmarshalJSON(b []byte) error {
	type plain TraceRecords
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	if len(r.Records) > MaxTracePage || r.Next < 0 {
		return fmt.Errorf("%w: a page of %d trace records, next %d (at most %d records)", wire.ErrOutOfRange, len(r.Records), r.Next, MaxTracePage)
	}
	return nil
}
