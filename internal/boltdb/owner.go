package boltdb

import (
	"fmt"
	"os"
	"syscall"
)

// matchDirOwner gives path the owner and group of dir when this process
// runs as root. The packaged service runs as its own user, but `bab enroll`
// and the ops commands are run by an administrator as root: without this, a
// state file they create would belong to root, and the service, unable to
// open it, would fail to start after a successful enrollment. The state
// directory's owner is the user the service runs as (the package and
// systemd's StateDirectory= make it so).
func matchDirOwner(dir, path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	ds, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("store: state directory owner: %w", err)
	}
	fs, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: state file owner: %w", err)
	}
	d, okd := ds.Sys().(*syscall.Stat_t)
	f, okf := fs.Sys().(*syscall.Stat_t)
	if !okd || !okf || (d.Uid == f.Uid && d.Gid == f.Gid) {
		return nil
	}
	if err := os.Chown(path, int(d.Uid), int(d.Gid)); err != nil {
		return fmt.Errorf("store: give %s to the state directory's owner (uid %d): %w", path, d.Uid, err)
	}
	return nil
}
