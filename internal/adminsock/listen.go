// Package adminsock opens the Unix sockets that carry the daemons' admin
// APIs, and says who is calling on them.
//
// The first guard is the file system: the socket is mode 0660, owned by
// the service's user and group, and an ACL entry gives read and write to
// each admin group, so the kernel refuses everyone else at connect(2),
// before a byte reaches the daemon. An ACL entry rather than the socket's
// group, because the packaged units forbid the service chown(2) (their
// system call filter denies @privileged, which holds @chown), while
// setting the ACL of a file it owns needs no privilege. The socket is made
// in a private directory and renamed into place once its mode and ACL are
// set, so that no connection slips in while it is more open. The second
// guard is the caller's credentials as the kernel recorded them at connect
// time (SO_PEERCRED, SO_PEERGROUPS), which the exchange uses to tell ops
// from read-only callers and to audit them.
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
	"strings"
	"time"
)

// Options say who may use a socket besides root and the service's user
// and group.
type Options struct {
	// Groups are let in (read and write, through ACL entries): their
	// members may connect. A group that does not exist is skipped, with a
	// note in the log; the daemon decides what members may do.
	Groups []string
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
	granted := grant(staged, o)
	if err := os.Rename(staged, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if granted {
		checkReachable(dir, o)
	}
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

// grant lets o.Groups in, and reports whether any was. Failing leaves the
// socket to root and the service, never more open.
func grant(path string, o Options) bool {
	var gids []uint32
	var names []string
	for _, name := range o.Groups {
		g, err := user.LookupGroup(name)
		if err != nil {
			o.Log.Info("the group does not exist: its members, if any, cannot use the admin socket; root and the service's user can",
				"group", name, "reason", err.Error())
			continue
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		gids, names = append(gids, uint32(gid)), append(names, name)
	}
	if len(gids) == 0 {
		return false
	}
	if err := grantGroups(path, gids); err != nil {
		o.Log.Warn("the admin socket's file system refused the ACL entries that let its groups in: only root and the service may use it",
			"groups", strings.Join(names, ","), "err", err.Error())
		return false
	}
	return true
}

// checkReachable warns when others cannot pass the socket's directory:
// the groups let into the socket would get "permission denied" with
// nothing wrong on the socket itself.
func checkReachable(dir string, o Options) {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o001 != 0 {
		return
	}
	o.Log.Warn("the admin socket's directory does not let others pass: only its owner and group reach the socket "+
		"(make it mode 0755, e.g. RuntimeDirectoryMode=0755)", "dir", dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
}
