package store

import (
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/internal/boltdb"
)

// rewrite copies the open file into a new one and puts it in its place.
// bbolt leaves deleted data in the file's free pages until they are used
// again; after a migration deleted what must not be kept (the old trace's
// paths), the copy holds only what is live.
func (s *Store) rewrite(dir string) error {
	path := s.db.Path()
	tmp := filepath.Join(dir, FileName+".rewrite")
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, nil)
	if err != nil {
		return fmt.Errorf("store: rewrite %s: %w", path, err)
	}
	err = bolt.Compact(dst, s.db, 64<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: rewrite %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: rewrite %s: %w", path, err)
	}
	db, err := boltdb.Open(dir, FileName, buckets(), ErrLocked)
	if err != nil {
		return err
	}
	s.db = db
	return nil
}
