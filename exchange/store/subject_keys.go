package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The exchange's subject keys: the HMAC keys with which it hashes the
// subjects of requests for the trace (exchange/subject.go). They are
// stored sealed, under a key-encryption key that is not in this file, so
// that the state file and its copies cannot tell whose records they hold.
// Keys are numbered from 1; the highest is current, the others retired,
// kept while records they hashed are kept.
var bucketSubjectKeys = []byte("subject_keys")

// SubjectKey is one subject key as stored: its number, its sealed bytes,
// and its life.
type SubjectKey struct {
	ID      uint32    `json:"id"`
	Sealed  []byte    `json:"sealed,omitempty"` // nil once dropped or lost
	Created time.Time `json:"created"`
	Retired time.Time `json:"retired,omitzero"` // when the next key took over
	// Dropped is when the exchange destroyed it, once every record it
	// hashed was pruned; Lost is when ops gave it up with the key-
	// encryption key (bab-exchange trace subject-key forget).
	Dropped time.Time `json:"dropped,omitzero"`
	Lost    time.Time `json:"lost,omitzero"`
}

func subjectKeyID(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

// SubjectKeys returns every subject key, oldest first.
func (s *Store) SubjectKeys() ([]SubjectKey, error) {
	var out []SubjectKey
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubjectKeys)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var sk SubjectKey
			if err := getJSON(b, k, &sk); err != nil {
				return fmt.Errorf("%w: subject key %x: %v", ErrCorrupt, k, err)
			}
			out = append(out, sk)
			return nil
		})
	})
	return out, err
}

// AddSubjectKey stores a new current subject key, numbered after the
// last, as seal gives it for that number, and retires the one it
// replaces at created. It returns the new key's number.
func (s *Store) AddSubjectKey(seal func(id uint32) ([]byte, error), created time.Time) (uint32, error) {
	var id uint32
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubjectKeys)
		id = 1
		if k, _ := b.Cursor().Last(); k != nil {
			var last SubjectKey
			if err := getJSON(b, k, &last); err != nil {
				return fmt.Errorf("%w: subject key %x: %v", ErrCorrupt, k, err)
			}
			id = last.ID + 1
			if last.Retired.IsZero() {
				last.Retired = created
				if err := putJSON(b, k, last); err != nil {
					return err
				}
			}
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		return putJSON(b, subjectKeyID(id), SubjectKey{ID: id, Sealed: sealed, Created: created})
	})
	return id, err
}

// DropSubjectKey destroys the sealed bytes of a retired key whose records
// were all pruned: nothing it could find is kept any more.
func (s *Store) DropSubjectKey(id uint32, at time.Time) error {
	return s.updateSubjectKey(id, func(k *SubjectKey) error {
		if k.Retired.IsZero() {
			return fmt.Errorf("store: subject key %d is current and cannot be dropped", id)
		}
		k.Sealed, k.Dropped = nil, at
		return nil
	})
}

// ForgetSubjectKeys marks every subject key that still has its sealed
// bytes as lost, and deletes those bytes: the key-encryption key that
// sealed them is lost, and the exchange starts again with a new one. It
// returns how many it forgot.
func (s *Store) ForgetSubjectKeys(at time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubjectKeys)
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			var sk SubjectKey
			if err := getJSON(b, k, &sk); err != nil {
				return fmt.Errorf("%w: subject key %x: %v", ErrCorrupt, k, err)
			}
			if sk.Sealed == nil {
				continue
			}
			sk.Sealed, sk.Lost = nil, at
			if sk.Retired.IsZero() {
				sk.Retired = at
			}
			if err := putJSON(b, k, sk); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func (s *Store) updateSubjectKey(id uint32, f func(*SubjectKey) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubjectKeys)
		var sk SubjectKey
		if err := getJSON(b, subjectKeyID(id), &sk); err != nil {
			return fmt.Errorf("store: subject key %d: %w", id, err)
		}
		if err := f(&sk); err != nil {
			return err
		}
		return putJSON(b, subjectKeyID(id), sk)
	})
}
