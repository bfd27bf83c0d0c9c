package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The attack tests play a local user other than root: an account made for
// the test with useradd, in the groups the test gives it, deleted when the
// test ends. Making accounts needs root; without it those tests skip, and
// say so loudly, since they are the proof behind the documentation's
// claims about who may use the admin sockets.

// localGroup is a group made for one test.
type localGroup struct {
	Name string
	GID  uint32
}

// localUser is an account made for one test.
type localUser struct {
	Name     string
	UID, GID uint32
	Groups   []uint32 // supplementary, as a login would give them
}

// accountsMu serialises useradd and friends, which lock /etc/passwd and
// fail rather than wait when another holds it.
var accountsMu sync.Mutex

// requireRoot skips t, loudly, unless the tests run as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: this attack test needs root to create a local user (useradd) and run commands as that user; " +
			"run the e2e tests as root to check who may use the admin sockets")
	}
}

// accountName is a fresh name for a user or group: short, lower case, and
// unlike any real account.
func accountName() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "babt" + hex.EncodeToString(b[:])
}

// accountCmd runs useradd, userdel, groupadd or groupdel.
func accountCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	accountsMu.Lock()
	defer accountsMu.Unlock()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// newLocalGroup creates a group for the test.
func newLocalGroup(t *testing.T) localGroup {
	t.Helper()
	requireRoot(t)
	name := accountName()
	accountCmd(t, "groupadd", name)
	t.Cleanup(func() { accountCmd(t, "groupdel", name) })
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	return localGroup{Name: name, GID: uint32(gid)}
}

// newLocalUser creates a user for the test, without a home or a login
// shell, member of groups.
func newLocalUser(t *testing.T, groups ...localGroup) localUser {
	t.Helper()
	requireRoot(t)
	name := accountName()
	args := []string{"--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group"}
	u := localUser{Name: name}
	if len(groups) > 0 {
		list := ""
		for i, g := range groups {
			if i > 0 {
				list += ","
			}
			list += g.Name
			u.Groups = append(u.Groups, g.GID)
		}
		args = append(args, "--groups", list)
	}
	accountCmd(t, "useradd", append(args, name)...)
	t.Cleanup(func() { accountCmd(t, "userdel", name) })
	pw, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(pw.Uid, 10, 32)
	gid, _ := strconv.ParseUint(pw.Gid, 10, 32)
	u.UID, u.GID = uint32(uid), uint32(gid)
	return u
}

// runAs runs a command as u, with u's groups, and returns its combined
// output and exit status.
func runAs(t *testing.T, u localUser, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v as %s: %v\n%s", name, args, u.Name, err, out)
	}
	return string(out), 0
}

// traversable lets every user pass through each directory from each path
// up to the root (search permission, not listing), so that another user
// can reach the binaries, configs and sockets the lab keeps in temporary
// directories. Files keep their own modes.
func traversable(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		for d := p; ; d = filepath.Dir(d) {
			fi, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			if fi.IsDir() && fi.Mode().Perm()&0o001 == 0 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
					t.Fatal(err)
				}
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
}
