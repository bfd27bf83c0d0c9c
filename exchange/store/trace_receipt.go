package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/tracelog"
)

// TraceReceipt makes the receipt of one record: by request id, or by
// index when index is 0 or more. The proof leads to the newest signed
// checkpoint, which must cover the record (ErrNotCheckpointed otherwise).
// When the appliances' evidence of the request is in the log under that
// checkpoint, the receipt carries it (a tracelog.EvidenceReceipt);
// otherwise it is the record's alone (a tracelog.Receipt, C2SP
// tlog-proof).
func (s *Store) TraceReceipt(id string, index int64) (tracelog.AnyReceipt, error) {
	var r tracelog.AnyReceipt
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraceRecords) == nil {
			return ErrTraceNotFound
		}
		st := traceState(tx)
		if index < 0 {
			var err error
			if index, err = indexOf(tx, id, st); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketTraceRecords).Get(u64(index)); tracelog.LeafKind(v) == tracelog.BatchLeaf {
			return fmt.Errorf("%w: record %d is an evidence batch, not a request's record", ErrTraceNotFound, index)
		}
		switch {
		case index >= st.Size:
			return fmt.Errorf("%w: record %d (the log has %d)", ErrTraceNotFound, index, st.Size)
		case index < st.First:
			return fmt.Errorf("%w: record %d was older than the retention period and deleted (the log pruned its first %d records; %s)", ErrTracePruned, index, st.First, oldestKept(tx, st))
		}
		data := clone(tx.Bucket(bucketTraceRecords).Get(u64(index)))
		if data == nil {
			return fmt.Errorf("%w: trace record %d is missing (trace verify checks the log)", ErrCorrupt, index)
		}
		size, note := latestCheckpoint(tx)
		if size <= index {
			return fmt.Errorf("%w: record %d is newer than the last checkpoint (%d records); the next one covers it", ErrNotCheckpointed, index, size)
		}
		proof, err := tlog.ProveRecord(size, index, hashReader{tx.Bucket(bucketTraceHashes)})
		if err != nil {
			return fmt.Errorf("store: trace receipt of record %d: %w", index, err)
		}
		rid, err := tracelog.RecordID(data)
		if err != nil {
			return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, index, err)
		}
		found, err := findID(tx, rid, st)
		if err != nil {
			return err
		}
		batches, err := requestEvidence(tx, rid, found, size)
		if err != nil {
			return err
		}
		if len(batches) == 0 {
			r = &tracelog.Receipt{Record: data, Index: index, Proof: proof, Checkpoint: note}
			return nil
		}
		r = &tracelog.EvidenceReceipt{Record: data, Index: index, Proof: proof, Batches: batches, Checkpoint: note}
		return nil
	})
	return r, err
}

// indexOf finds the one record kept with request id id.
func indexOf(tx *bolt.Tx, id string, st TraceState) (int64, error) {
	leaves, err := findID(tx, id, st)
	if err != nil {
		return 0, err
	}
	var found []int64 // the records, not the evidence batches
	recs := tx.Bucket(bucketTraceRecords)
	for _, n := range leaves {
		if tracelog.LeafKind(recs.Get(u64(n))) != tracelog.BatchLeaf {
			found = append(found, n)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		s := make([]string, len(found))
		for i, n := range found {
			s[i] = fmt.Sprint(n)
		}
		return 0, fmt.Errorf("%w: records %s; ask for one with --index", ErrTraceAmbiguous, strings.Join(s, ", "))
	case st.First > 0:
		return 0, fmt.Errorf("%w: no record kept has request id %q: it never reached the exchange, or it was older than the retention period and deleted (the log pruned its first %d records; %s)",
			ErrTraceNotFound, id, st.First, oldestKept(tx, st))
	}
	return 0, fmt.Errorf("%w: no record has request id %q", ErrTraceNotFound, id)
}

// oldestKept says from when on records are kept.
func oldestKept(tx *bolt.Tx, st TraceState) string {
	v := tx.Bucket(bucketTraceRecords).Get(u64(st.First))
	at, _, err := leafTime(v)
	if v == nil || err != nil {
		return "none is kept now"
	}
	return "the oldest kept is from " + at.Format(time.RFC3339)
}
