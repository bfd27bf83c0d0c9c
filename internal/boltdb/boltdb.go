// Package boltdb holds what the appliance's and the exchange's bbolt stores
// share: opening a state file without waiting forever on another process,
// and, for tests, checking a file's consistency when a test ends.
package boltdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Open opens (creating if needed) the bbolt file name in dir, readable by
// its owner only, with the given top-level buckets. Run as root, it gives
// the file to the owner of dir, the user the service runs as. If another
// process holds the file, Open fails after a second with an error matching
// locked instead of waiting.
func Open(dir, name string, buckets [][]byte, locked error) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create state directory: %w", err)
	}
	path := filepath.Join(dir, name)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", locked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := matchDirOwner(dir, path); err != nil {
		db.Close()
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: initialise %s: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens the existing bbolt file name in dir to read it. A
// process that holds it for writing makes it fail after a second with an
// error matching locked.
func OpenReadOnly(dir, name string, locked error) (*bolt.DB, error) {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", locked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// CheckOnCleanup makes t check db's consistency and close it when the test
// ends, so that a transaction that broke the B+tree fails the test that ran
// it rather than a later one. A db the test closed itself is skipped.
func CheckOnCleanup(t testing.TB, db *bolt.DB) {
	t.Helper()
	t.Cleanup(func() {
		err := db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("consistency check: %v", err)
			}
			return nil
		})
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return
		}
		if err != nil {
			t.Errorf("consistency check: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}
