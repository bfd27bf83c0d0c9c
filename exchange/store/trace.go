package store

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TraceEntry is the metadata of one request as the exchange saw it. It
// never holds a payload.
type TraceEntry struct {
	ID                string        `json:"id"`
	At                time.Time     `json:"at"`
	Consumer          string        `json:"consumer"` // consumer appliance
	ConsumerSystem    string        `json:"consumer_system,omitempty"`
	Purpose           string        `json:"purpose,omitempty"` // as the caller declared it
	Service           string        `json:"service"`
	Provider          string        `json:"provider,omitempty"` // provider appliance
	Method            string        `json:"method"`
	Path              string        `json:"path"`
	Outcome           string        `json:"outcome"` // "ok", or a problem code
	Status            int           `json:"status,omitempty"`
	RequestBytes      int64         `json:"request_bytes"`
	ResponseBytes     int64         `json:"response_bytes"`
	Duration          time.Duration `json:"duration_ns"`
	StreamResetReason string        `json:"reset,omitempty"`
}

// AppendTrace writes a batch of entries in one transaction. Keys are the
// entry time in nanoseconds followed by a sequence number, so a range scan
// is a time window.
func (s *Store) AppendTrace(entries []TraceEntry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTrace)
		for i := range entries {
			seq, _ := b.NextSequence()
			var k [16]byte
			binary.BigEndian.PutUint64(k[:8], uint64(entries[i].At.UnixNano()))
			binary.BigEndian.PutUint64(k[8:], seq)
			v, err := json.Marshal(&entries[i])
			if err != nil {
				return err
			}
			if err := b.Put(k[:], v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Trace returns up to limit of the newest entries, newest first.
func (s *Store) Trace(limit int) ([]TraceEntry, error) {
	var out []TraceEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTrace).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e TraceEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// PruneTrace deletes the entries older than before, at most batch of them
// in one transaction so that a large backlog does not hold the write lock
// for long; it returns how many it deleted. Call it again while it returns
// batch.
func (s *Store) PruneTrace(before time.Time, batch int) (int, error) {
	var n int
	var limit [8]byte
	binary.BigEndian.PutUint64(limit[:], uint64(before.UnixNano()))
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTrace).Cursor()
		for k, _ := c.First(); k != nil && n < batch && string(k[:8]) < string(limit[:]); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
