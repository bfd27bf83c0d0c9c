package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/tracelog"
)

// PruneTrace deletes the oldest records of the log while they are older
// than before: their bytes and their request ids in the index, and the
// subject and member indexes of every chunk it pruned whole. The tree's
// stored hashes and the checkpoints stay, so that every checkpoint can
// still be checked against the tree and against the others. Records are
// deleted in log order, at most batch of them in one transaction so that
// a large backlog does not hold the write lock for long; a record that
// took long may be kept a little past the period, never less. It returns
// how many it deleted; call it again while it returns batch.
func (s *Store) PruneTrace(before time.Time, batch int) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketTraceLog)
		st := traceState(tx)
		c := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := c.Seek(u64(st.First)); k != nil && n < batch; k, v = c.Seek(u64(st.First)) {
			index := st.First
			at, id, err := leafTime(v)
			if err != nil {
				return fmt.Errorf("%w: trace record %d does not decode, and pruning stops there (trace verify names what is wrong): %v", ErrCorrupt, index, err)
			}
			if !at.Before(before) {
				break
			}
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				err = pruneBatch(tx, index, v)
			} else {
				err = unindex(tx, id, index)
			}
			if err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			st.First++
			n++
		}
		if n == 0 {
			return nil
		}
		if err := unindexChunks(tx, st.First); err != nil {
			return err
		}
		return meta.Put(keyTraceFirst, u64(st.First))
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
