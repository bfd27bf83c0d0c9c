package boltdb

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ReadAll returns every key and value of the top-level bucket name, copied
// out of the transaction.
func ReadAll(db *bolt.DB, name []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", name, err)
	}
	return out, nil
}

// ReplaceAll makes kv the whole content of the top-level bucket name, in
// one transaction: after a crash the bucket holds the old content or the
// new, never a mix.
func ReplaceAll(db *bolt.DB, name []byte, kv map[string][]byte) error {
	err := db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		for k, v := range kv {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: replace %s: %w", name, err)
	}
	return nil
}
