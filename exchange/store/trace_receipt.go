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
func (s *Store) TraceReceipt(id string, index int64) (*tracelog.Receipt, error) {
	var r *tracelog.Receipt
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
		r = &tracelog.Receipt{Record: data, Index: index, Proof: proof, Checkpoint: note}
		return nil
	})
	return r, err
}

// indexOf finds the one record kept with request id id.
func indexOf(tx *bolt.Tx, id string, st TraceState) (int64, error) {
	found, err := findID(tx, id, st)
	if err != nil {
		return 0, err
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
	var r tracelog.Record
	if v := tx.Bucket(bucketTraceRecords).Get(u64(st.First)); v == nil || r.UnmarshalBinary(v) != nil {
		return "none is kept now"
	}
	return "the oldest kept is from " + r.At.Format(time.RFC3339)
}
