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
// 2 added the deny list and the key hash of each appliance.
const layout = 2

// migrate brings a file written by an older exchange to the current
// layout, once. Version 2: appliances revoked before the deny list existed
// have their last certificate put on it (their key was not recorded, so it
// cannot be); appliances that are not revoked get their key hash when they
// next connect with their registered certificate (see the exchange's
// admission).
func (s *Store) migrate(now time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyLayout); len(v) == 8 && binary.BigEndian.Uint64(v) >= layout {
			return nil
		}
		err := tx.Bucket(bucketAppliances).ForEach(func(k, v []byte) error {
			var a Appliance
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("%w: appliance %s: %v", ErrCorrupt, k, err)
			}
			if !a.Revoked {
				return nil
			}
			return deny(tx, &a, cmpTime(a.RevokedAt, now), "revoked by ops")
		})
		if err != nil {
			return fmt.Errorf("store: migrate to layout %d: %w", layout, err)
		}
		var vb [8]byte
		binary.BigEndian.PutUint64(vb[:], layout)
		return meta.Put(keyLayout, vb[:])
	})
}

// cmpTime is t, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
