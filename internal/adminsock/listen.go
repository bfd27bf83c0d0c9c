// Package adminsock opens the Unix sockets that carry the daemons' admin
// APIs, and says who is calling on them.
//
// The first guard is the file system: the socket is mode 0660, owned by
// the service's user and an admin group, so the kernel refuses everyone
// else at connect(2), before a byte reaches the daemon. A second group can
// be let in with a POSIX ACL entry (the exchange's read-only group). The
// socket is made in a private directory and renamed into place once its
// owner and mode are set, so that no connection slips in while it is more
// open. The second guard is the caller's credentials as the kernel
// recorded them at connect time (SO_PEERCRED, SO_PEERGROUPS), which the
// exchange uses to tell ops from read-only callers and to audit them.
package adminsock

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Options say who may use a socket besides root and the service's user.
type Options struct {
	// Group is given the socket (read and write): its members may connect.
	// "" keeps the process's own group. A group that does not exist is
	// skipped, with a note in the log.
	Group string
	// ReadGroup is also let in, through an ACL entry; "" lets in no one
	// else. The daemon decides what its members may do.
	ReadGroup string
	// Log receives what could not be done and why.
	Log *slog.Logger
}

// Mode is the socket's permission bits: its owner and group may connect.
const Mode = 0o660

// maxPath is the longest path sun_path holds with its final NUL.
const maxPath = 107

// Listen makes the socket at path and listens on it. The directory is made
// (0755: others may pass through, the socket's own mode decides) when it
// does not exist. A socket left by a process that died is replaced; one
// that a live process answers on is not (ErrInUse). Closing the listener
// removes the socket.
func Listen(path string, o Options) (net.Listener, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if len(path) > maxPath {
		return nil, fmt.Errorf("socket %s: %w", path, ErrPathTooLong)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	// Made in a directory only this process can enter, then renamed into
	// place: connect(2) checks the mode when it runs, so a socket that is
	// reachable before its mode and group are set could let a connection
	// in that is served later.
	tmp, err := os.MkdirTemp(dir, ".sock")
	if err != nil {
		return nil, fmt.Errorf("socket: private directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The temporary path may be longer than the final one.
	staged := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: staged, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false) // the file moves; closing removes it at its final path
	if err := os.Chmod(staged, Mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: mode: %w", path, err)
	}
	group := giveGroup(staged, o)
	if o.ReadGroup != "" {
		grantReadGroup(staged, o)
	}
	if err := os.Rename(staged, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	checkReachable(dir, group, o)
	return &listener{UnixListener: ln, path: path}, nil
}

// listener removes its socket when closed.
type listener struct {
	*net.UnixListener
	path string
}

func (l *listener) Close() error {
	err := l.UnixListener.Close()
	_ = os.Remove(l.path)
	return err
}

// Addr names the socket by its final path, not the staging one it was
// bound at.
func (l *listener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// clearStale removes a socket nobody answers on, and refuses to touch a
// live one or anything that is not a socket.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket %s: %w (remove it, or choose another path)", path, ErrNotSocket)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("socket %s: %w", path, ErrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("socket %s: remove the stale one: %w", path, err)
	}
	return nil
}

// giveGroup gives the socket to o.Group, and returns the gid its members
// need to pass the directory, or -1 when the socket kept the process's
// group. Failing leaves the socket closed to the group, never more open.
func giveGroup(path string, o Options) int {
	if o.Group == "" {
		return -1
	}
	g, err := user.LookupGroup(o.Group)
	if err != nil {
		o.Log.Info("the admin socket keeps the service's own group: only root and the service's user may use it",
			"socket_group", o.Group, "reason", err.Error())
		return -1
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(path, -1, gid); err != nil {
		o.Log.Warn("the admin socket could not be given to its group: only root and the service's user may use it "+
			"(the service must be a member of the group, e.g. SupplementaryGroups= in its unit)",
			"socket_group", o.Group, "err", err.Error())
		return -1
	}
	return gid
}

// grantReadGroup lets o.ReadGroup connect too.
func grantReadGroup(path string, o Options) {
	g, err := user.LookupGroup(o.ReadGroup)
	if err != nil {
		o.Log.Info("no read-only access to the admin socket: the group does not exist", "group", o.ReadGroup, "reason", err.Error())
		return
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	if err := grantGroup(path, uint32(gid)); err != nil {
		o.Log.Warn("no read-only access to the admin socket: its file system refused the ACL entry that lets the group in",
			"group", o.ReadGroup, "err", err.Error())
	}
}

// checkReachable warns when the groups let into the socket cannot pass
// its directory: they would get "permission denied" with nothing wrong
// on the socket itself.
func checkReachable(dir string, gid int, o Options) {
	fi, err := os.Stat(dir)
	if err != nil {
		return
	}
	perm := fi.Mode().Perm()
	if perm&0o001 != 0 {
		return
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Gid)
	}
	if gid >= 0 && perm&0o010 != 0 && owner == gid {
		return
	}
	if o.Group == "" && o.ReadGroup == "" {
		return
	}
	o.Log.Warn("the admin socket's directory does not let others pass: only its owner and group reach the socket "+
		"(make it mode 0755, e.g. RuntimeDirectoryMode=0755)", "dir", dir, "mode", fmt.Sprintf("%04o", perm))
}
