package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint signs the tree as it is now, if it grew since the last
// checkpoint, and keeps the signed checkpoint: sign gets the tree's size
// and root hash and returns the signed note. It returns the size signed,
// or 0 when the tree did not grow.
func (s *Store) Checkpoint(sign func(size int64, root tlog.Hash) ([]byte, error)) (int64, error) {
	var signed int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		size := traceState(tx).Size
		cps := tx.Bucket(bucketTraceCheckpoints)
		cps.FillPercent = 1
		if last, _ := cps.Cursor().Last(); size == 0 || (last != nil && int64(binary.BigEndian.Uint64(last)) >= size) {
			return nil
		}
		root, err := tlog.TreeHash(size, hashReader{tx.Bucket(bucketTraceHashes)})
		if err != nil {
			return fmt.Errorf("store: trace checkpoint of %d records: %w", size, err)
		}
		note, err := sign(size, root)
		if err != nil {
			return fmt.Errorf("store: trace checkpoint of %d records: %w", size, err)
		}
		signed = size
		return cps.Put(u64(size), note)
	})
	return signed, err
}

// LatestCheckpoint returns the newest signed checkpoint and the size it
// covers, or 0, nil when there is none yet.
func (s *Store) LatestCheckpoint() (int64, []byte, error) {
	var size int64
	var note []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		size, note = latestCheckpoint(tx)
		return nil
	})
	return size, note, err
}

func latestCheckpoint(tx *bolt.Tx) (int64, []byte) {
	b := tx.Bucket(bucketTraceCheckpoints)
	if b == nil {
		return 0, nil
	}
	k, v := b.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint64(k)), clone(v)
}
