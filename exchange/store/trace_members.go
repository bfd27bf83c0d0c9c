package store

import (
	"encoding/binary"
	"fmt"
	"github.com/babgate/bab/tracelog"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MemberQuery asks for a member's records: those where it is the consumer
// or the provider, never another's.
type MemberQuery struct {
	Member       string    // the member, such as MA/MUN/RABAT
	Since, Until time.Time // requests that reached the exchange in [Since, Until); zero: no bound
	Service      string    // only this service; "" any
	From         int64     // the first record to consider: 0, or the Next of the page before
	Limit        int       // records per page, 1 to MaxMemberPage
	// Slack is the longest a request lasts at the exchange. Records are in
	// the order their requests ended, and Since and Until bound when they
	// began: a record up to Slack out of order is still found.
	Slack time.Duration
}

// MemberPage is one page of a member's records, in log order.
type MemberPage struct {
	Records []LoggedEntry `json:"records"`
	// Next is where the next page starts (MemberQuery.From); 0 when there
	// is no more.
	Next int64 `json:"next,omitempty"`
}

// MaxMemberPage bounds a page; maxMemberScan bounds the index entries one
// page looks at, so that a filter that matches little does not hold a
// read transaction for long: the page comes back short, with Next.
const (
	MaxMemberPage = 1000
	maxMemberScan = 100_000
)

// TraceByMember returns a page of the member's records that match q.
func (s *Store) TraceByMember(q MemberQuery) (MemberPage, error) {
	q.Limit = min(max(q.Limit, 1), MaxMemberPage)
	var page MemberPage
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraceMembers) == nil || q.Member == "" {
			return nil
		}
		st := traceState(tx)
		start := max(q.From, st.First)
		if !q.Since.IsZero() {
			s, err := firstEndingAfter(tx, st, q.Since.Add(-q.Slack))
			if err != nil {
				return err
			}
			start = max(start, s)
		}
		w := memberWalk{q: q, page: &page}
		indexed := getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects)
		b := tx.Bucket(bucketTraceMembers)
		for chunk := start - start%idChunk; chunk < indexed && !w.done; chunk += idChunk {
			v := b.Get(memberIndexKey(chunk, q.Member))
			if v == nil {
				continue
			}
			in, err := places(v, chunk, start)
			if err != nil {
				return err
			}
			for _, index := range in {
				e, err := readRecord(tx, index)
				if err != nil {
					return err
				}
				if w.see(e); w.done {
					break
				}
			}
		}
		rc := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := rc.Seek(u64(max(indexed, start))); k != nil && !w.done; k, v = rc.Next() {
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				continue // an appliance's evidence, not a request
			}
			e := LoggedEntry{Index: int64(binary.BigEndian.Uint64(k))}
			if err := e.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, e.Index, err)
			}
			if slices.Contains(members(&e.TraceEntry), q.Member) {
				w.see(e)
			}
		}
		return nil
	})
	return page, err
}

// memberWalk fills a page with the records of the member's index in log
// order.
type memberWalk struct {
	q       MemberQuery
	page    *MemberPage
	scanned int
	done    bool
}

func (w *memberWalk) see(e LoggedEntry) {
	w.scanned++
	q := w.q
	switch {
	case !q.Until.IsZero() && e.At.After(q.Until.Add(q.Slack)):
		// Every later record began after Until.
		w.done = true
		return
	case (q.Since.IsZero() || !e.At.Before(q.Since)) && (q.Until.IsZero() || e.At.Before(q.Until)) && (q.Service == "" || e.Service == q.Service):
		w.page.Records = append(w.page.Records, e)
	}
	if len(w.page.Records) == q.Limit || w.scanned == maxMemberScan {
		w.page.Next, w.done = e.Index+1, true
	}
}

// firstEndingAfter is where to start looking for the records that began
// at or after t + slack, the caller's Since (it passes Since minus the
// slack): the index of a record that began before t, found by bisection,
// or the first record kept. The log is in the order requests ended, not
// began, but a record that began before Since - slack ended before Since,
// so before any request that began at Since or later: bisecting for any
// such record is right even though the times are not quite in order.
func firstEndingAfter(tx *bolt.Tx, st TraceState, t time.Time) (int64, error) {
	lo, hi := st.First, st.Size
	began := func(i int64) (time.Time, error) {
		e, err := readRecord(tx, i)
		return e.At, err
	}
	if lo >= hi {
		return lo, nil
	}
	at, err := began(lo)
	if err != nil || !at.Before(t) {
		return lo, err
	}
	// Invariant: the record at lo began before t.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		at, err := began(mid)
		if err != nil {
			return 0, err
		}
		if at.Before(t) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
