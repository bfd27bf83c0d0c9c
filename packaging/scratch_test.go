package packaging

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/babgate/bab/internal/loudskip"
)

// scratchRoot is a throwaway system for dpkg --root: dpkg runs maintainer
// scripts chrooted into it, so it needs a working userland. Rather than
// bootstrap one from the network, it borrows this machine's: in a private
// mount namespace an overlay puts the host's /usr (Debian is usr-merged)
// under root/usr, with writes going to the test's temporary directory;
// /bin, /sbin, /lib and /lib64 are the usual links into it; /etc holds only
// the account files, so the users a package creates are plain to see; and
// the dpkg database starts empty. Nothing of the host changes.
//
// The namespace lives as long as a holder process (sleep) started in it:
// commands enter it with nsenter, and the test reads the merged tree
// through /proc/PID/root.
type scratchRoot struct {
	dir    string // the root as the commands inside the namespace see it
	holder *exec.Cmd
}

// holderLife bounds the namespace's holder if the test dies without
// cleaning up.
const holderLife = 15 * time.Minute

// newScratchRoot makes a scratch root, or skips the test when this machine
// cannot (not root, no unshare, no overlayfs): the reason says what is
// missing. provided lists packages the host's /usr stands in for, recorded
// as installed so that dependencies on them are met.
func newScratchRoot(t *testing.T, provided ...string) *scratchRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		loudskip.Skip(t, "needs root: installs packages into a scratch root with dpkg --root and overlayfs (run the tests as root to cover the packaging)")
	}
	for _, tool := range []string{"unshare", "nsenter", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			loudskip.Skip(t, "%s not found (util-linux): no private mount namespace for the scratch root", tool)
		}
	}
	base := t.TempDir()
	r := &scratchRoot{dir: filepath.Join(base, "root")}
	for _, d := range []string{"root/usr", "root/etc", "root/var/lib/dpkg/info", "root/var/lib/dpkg/updates", "root/var/log", "root/run", "root/dev", "root/tmp", "upper", "work"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Chmod(filepath.Join(r.dir, "tmp"), 0o1777))
	for name, target := range map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"} {
		must(t, os.Symlink(target, filepath.Join(r.dir, name)))
	}
	files := map[string]string{
		"etc/passwd":        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":         "root:x:0:\nnogroup:x:65534:\n",
		"etc/shadow":        "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
		"etc/gshadow":       "root:*::\nnogroup:*::\n",
		"etc/nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\ngshadow: files\n",
		"dev/null":          "",
	}
	// useradd reads the uid and gid ranges of system accounts from here.
	if b, err := os.ReadFile("/etc/login.defs"); err == nil {
		files["etc/login.defs"] = string(b)
	} else {
		files["etc/login.defs"] = "SYS_UID_MIN 100\nSYS_UID_MAX 999\nSYS_GID_MIN 100\nSYS_GID_MAX 999\n"
	}
	var status strings.Builder
	for _, p := range provided {
		v, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", p).Output()
		if err != nil || len(v) == 0 {
			t.Fatalf("the scratch root borrows %s from this machine, which does not have it installed: apt-get install %s", p, p)
		}
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: required\nMaintainer: scratch root <root@localhost>\nArchitecture: amd64\nVersion: %s\nDescription: provided by the host's /usr\n\n", p, v)
		files["var/lib/dpkg/info/"+p+".list"] = ""
	}
	files["var/lib/dpkg/status"] = status.String()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.Contains(name, "shadow") {
			mode = 0o640
		}
		must(t, os.WriteFile(filepath.Join(r.dir, name), []byte(content), mode))
	}

	script := fmt.Sprintf(`set -e
mount -t overlay overlay -o lowerdir=/usr,upperdir=%[1]s/upper,workdir=%[1]s/work %[2]s/usr
mount --bind /dev/null %[2]s/dev/null
echo ready
exec sleep %[3]d`, base, r.dir, int(holderLife.Seconds()))
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	stdout, err := holder.StdoutPipe()
	must(t, err)
	var stderr bytes.Buffer
	holder.Stderr = &stderr
	if err := holder.Start(); err != nil {
		loudskip.Skip(t, "cannot start a private mount namespace (unshare --mount): %v", err)
	}
	r.holder = holder
	t.Cleanup(func() {
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line) == "ready"
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = holder.Wait()
			loudskip.Skip(t, "no overlayfs over /usr in a private mount namespace on this machine: %s", strings.TrimSpace(stderr.String()))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the scratch root's mount namespace did not come up in 30s: %s", stderr.String())
	}
	return r
}

// path is where the test reads p of the scratch root from outside the
// namespace.
func (r *scratchRoot) path(p string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", r.holder.Process.Pid), r.dir, p)
}

// run runs a command inside the namespace, its output combined.
func (r *scratchRoot) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nargs := append([]string{"--target", strconv.Itoa(r.holder.Process.Pid), "--mount", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", nargs...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return string(out), err
}

// dpkg runs dpkg inside the scratch root and fails the test if it fails.
// Not dpkg --root from outside: that dpkg would look the owners in
// dpkg-statoverride's file up in this machine's accounts, not in the
// scratch root's, where the packages create them. The packages to install
// are copied in first.
func (r *scratchRoot) dpkg(t *testing.T, args ...string) string {
	t.Helper()
	for i, a := range args {
		if strings.HasSuffix(a, ".deb") {
			inside := "/tmp/" + filepath.Base(a)
			b, err := os.ReadFile(a)
			must(t, err)
			must(t, os.WriteFile(r.path(inside), b, 0o644))
			args[i] = inside
		}
	}
	out, err := r.chroot(append([]string{"dpkg"}, args...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// chroot runs a command of the scratch root as root inside it.
func (r *scratchRoot) chroot(args ...string) (string, error) {
	return r.run(append([]string{"chroot", r.dir}, args...)...)
}

// accounts is the scratch root's account database.
type accounts struct {
	users   map[string]account
	gids    map[string]int      // group name to gid
	members map[string][]string // group name to its supplementary members
}

type account struct {
	uid                int
	group, home, shell string // group: the primary group's name
}

// accounts reads etc/passwd and etc/group, failing the test on a name
// that appears twice.
func (r *scratchRoot) accounts(t *testing.T) accounts {
	t.Helper()
	a := accounts{users: map[string]account{}, gids: map[string]int{}, members: map[string][]string{}}
	gidName := map[string]string{}
	for _, l := range r.lines(t, "etc/group") {
		f := strings.Split(l, ":")
		if len(f) != 4 {
			t.Fatalf("etc/group: bad line %q", l)
		}
		if _, dup := a.gids[f[0]]; dup {
			t.Errorf("etc/group: group %s twice", f[0])
		}
		a.gids[f[0]] = atoi(t, f[2])
		gidName[f[2]] = f[0]
		if f[3] != "" {
			a.members[f[0]] = strings.Split(f[3], ",")
		}
	}
	for _, l := range r.lines(t, "etc/passwd") {
		f := strings.Split(l, ":")
		if len(f) != 7 {
			t.Fatalf("etc/passwd: bad line %q", l)
		}
		if _, dup := a.users[f[0]]; dup {
			t.Errorf("etc/passwd: user %s twice", f[0])
		}
		a.users[f[0]] = account{uid: atoi(t, f[2]), group: gidName[f[3]], home: f[5], shell: f[6]}
	}
	return a
}

func (r *scratchRoot) lines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(r.path(p))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// stat is a file's mode, owner and group, or ok false when it is absent.
func (r *scratchRoot) stat(t *testing.T, p string) (mode os.FileMode, uid, gid int, ok bool) {
	t.Helper()
	fi, err := os.Lstat(r.path(p))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode(), int(st.Uid), int(st.Gid), true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
