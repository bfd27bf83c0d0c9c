package boltdb

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/babgate/bab/internal/loudskip"
)

var errTestLocked = errors.New("locked")

// TestOpenAsRootGivesFileToDirOwner is what happens when an administrator
// runs `bab enroll` as root in the packaged state directory, which belongs
// to the service's user: the state file must end up belonging to that user,
// whether Open creates it or finds it left by root earlier.
func TestOpenAsRootGivesFileToDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		loudskip.Skip(t, "needs root: it checks what Open does when run as root (run the tests as root to cover it)")
	}
	const uid, gid = 4242, 4343 // need not exist: ownership is numeric
	for _, tc := range []struct {
		name     string
		existing bool
	}{{"created", false}, {"left by root", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "state.db")
			if tc.existing {
				db, err := Open(t.TempDir(), "state.db", nil, errTestLocked)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(db.Path(), path); err != nil {
					t.Fatal(err)
				}
				db.Close()
				if got := owner(t, path); got != [2]uint32{0, 0} {
					t.Fatalf("setup: file owned by %v, want root", got)
				}
			}
			db, err := Open(dir, "state.db", [][]byte{[]byte("b")}, errTestLocked)
			if err != nil {
				t.Fatal(err)
			}
			CheckOnCleanup(t, db)
			if got, want := owner(t, path), [2]uint32{uid, gid}; got != want {
				t.Errorf("state file owned by uid/gid %v, want the directory's %v", got, want)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("state file mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
		})
	}
}

// TestOpenAsRootInRootDirKeepsRoot: a state directory that root owns (a
// test set-up, or a state_dir root made) keeps a root-owned file.
func TestOpenAsRootInRootDirKeepsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		loudskip.Skip(t, "needs root: it checks what Open does when run as root (run the tests as root to cover it)")
	}
	dir := filepath.Join(t.TempDir(), "new") // Open creates it, as root
	db, err := Open(dir, "state.db", nil, errTestLocked)
	if err != nil {
		t.Fatal(err)
	}
	CheckOnCleanup(t, db)
	if got := owner(t, filepath.Join(dir, "state.db")); got != [2]uint32{0, 0} {
		t.Errorf("state file owned by %v, want root", got)
	}
}

func owner(t *testing.T, path string) [2]uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return [2]uint32{st.Uid, st.Gid}
}
