package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketMeta holds facts about the file itself, such as its layout version.
var bucketMeta = []byte("meta")

var keyLayout = []byte("layout")

// layout is the version of the registry's layout that this code writes:
// 2 added the deny list and the key hash of each appliance; 3 replaced the
// trace, whose entries held the request's path, by the trace log.
const layout = 3

// bucketOldTrace is the trace of layouts 1 and 2: JSON entries keyed by
// time, with the request's path.
var bucketOldTrace = []byte("trace")

// migrate brings a file written by an older exchange to the current
// layout, once. It reports whether it removed data that must not stay in
// the file's free pages (the old trace's paths), so that Open rewrites
// the file.
func (s *Store) migrate(now time.Time) (scrub bool, err error) {
	var from uint64
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLayout); len(v) == 8 {
			from = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil || from >= layout {
		return false, err
	}
	if from < 2 {
		if err := s.migrateDenyList(now); err != nil {
			return false, fmt.Errorf("store: migrate to layout 2: %w", err)
		}
	}
	if scrub, err = s.migrateTrace(); err != nil {
		return false, fmt.Errorf("store: migrate to layout 3: %w", err)
	}
	return scrub, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyLayout, u64(layout)) })
}

// migrateDenyList (layout 2): appliances revoked before the deny list
// existed have their last certificate put on it (their key was not
// recorded, so it cannot be); appliances that are not revoked get their
// key hash when they next connect with their registered certificate (see
// the exchange's admission).
func (s *Store) migrateDenyList(now time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAppliances).ForEach(func(k, v []byte) error {
			var a Appliance
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("%w: appliance %s: %v", ErrCorrupt, k, err)
			}
			if !a.Revoked {
				return nil
			}
			return deny(tx, &a, cmpTime(a.RevokedAt, now), "revoked by ops")
		})
	})
}

// oldTraceEntry is an entry of the old trace as it was stored.
type oldTraceEntry struct {
	TraceEntry
	Path  string `json:"path"`  // dropped
	Reset string `json:"reset"` // never set; dropped
}

// migrateTrace (layout 3) moves the old trace's entries into the trace
// log in their order, without their paths, and deletes the old bucket.
// Each batch is appended and deleted in one transaction, so that a
// migration cut short resumes where it stopped.
func (s *Store) migrateTrace() (bool, error) {
	found := false
	for {
		done := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			old := tx.Bucket(bucketOldTrace)
			if old == nil {
				done = true
				return nil
			}
			found = true
			var batch []TraceEntry
			c := old.Cursor()
			for k, v := c.First(); k != nil && len(batch) < 10000; k, v = c.First() {
				var e oldTraceEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("%w: old trace entry %x: %v", ErrCorrupt, k, err)
				}
				e.At = e.At.UTC()
				batch = append(batch, e.TraceEntry)
				if err := c.Delete(); err != nil {
					return err
				}
			}
			if len(batch) == 0 {
				done = true
				return tx.DeleteBucket(bucketOldTrace)
			}
			_, err := appendTrace(tx, batch)
			return err
		})
		if err != nil || done {
			return found, err
		}
	}
}

// cmpTime is t, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
