package adminsock

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestListen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := filepath.Join(dir, "admin.sock")
	ln, err := Listen(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != Mode {
		t.Fatalf("socket: %v %v, want a socket of mode %o", fi.Mode(), err, Mode)
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o755 {
		t.Errorf("made directory mode %o, want 0755", d.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the staging directory was left behind: %v", entries)
	}
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr = %s, want %s", got, path)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hi" {
		t.Errorf("read %q through the socket", b)
	}

	if _, err := Listen(path, Options{}); !errors.Is(err, ErrInUse) {
		t.Errorf("a second Listen while the first serves: %v, want ErrInUse", err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left the socket: %v", err)
	}
}

// TestListenStale: a socket left by a process that died is replaced; a
// file that is not a socket is left alone.
func TestListenStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	ln, err := Listen(path, Options{})
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln.Close()

	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, Options{}); !errors.Is(err, ErrNotSocket) {
		t.Errorf("over a regular file: %v, want ErrNotSocket", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Error("the regular file was changed")
	}
	if _, err := Listen("/"+strings.Repeat("x", 120), Options{}); !errors.Is(err, ErrPathTooLong) {
		t.Errorf("a long path: %v, want ErrPathTooLong", err)
	}
}

func TestPeerOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := Listen(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan Peer, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p, err := PeerOf(c)
		if err != nil {
			t.Error(err)
		}
		got <- p
		c.Close()
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := <-got
	groups, _ := os.Getgroups()
	if int(p.PID) != os.Getpid() || int(p.UID) != os.Geteuid() || int(p.GID) != os.Getegid() {
		t.Errorf("peer %+v, want pid %d uid %d gid %d", p, os.Getpid(), os.Geteuid(), os.Getegid())
	}
	for _, g := range groups {
		if !p.InGroup(uint32(g)) {
			t.Errorf("peer %+v lacks supplementary group %d", p, g)
		}
	}
	if _, err := PeerOf(&net.TCPConn{}); err == nil {
		t.Error("PeerOf a TCP connection did not fail")
	}
}

// helperEnv makes the test binary, run again, only try to connect.
const helperEnv = "ADMINSOCK_TEST_CONNECT"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		c, err := net.Dial("unix", path)
		if err != nil {
			os.Stdout.WriteString(err.Error())
			os.Exit(1)
		}
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestGroups plays other local users against a socket that lets two
// groups in: members of either connect, others are refused by the kernel.
// It needs root, to run as those users.
func TestGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: needs root to connect as other users; run the tests as root to check the socket's permissions")
	}
	group, read := lookupGroup(t, "nogroup"), lookupGroup(t, "daemon")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A copy of the test binary that other users may run.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "helper")
	if err := os.WriteFile(helper, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(d, fi.Mode().Perm()|0o001)
		}
	}
	path := filepath.Join(dir, "admin.sock")
	ln, err := Listen(path, Options{Groups: []string{"nogroup", "daemon", "no-such-group-here"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	const someone = 65533 // a uid and gid nobody uses
	for _, c := range []struct {
		name   string
		gid    uint32
		groups []uint32
		want   bool
	}{
		{"member of the first group", someone, []uint32{group}, true},
		{"member of the second group", someone, []uint32{read}, true},
		{"primary group is one let in", group, nil, true},
		{"in neither group", someone, nil, false},
	} {
		cmd := exec.Command(helper)
		cmd.Env = []string{helperEnv + "=" + path}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: someone, Gid: c.gid, Groups: c.groups}}
		out, err := cmd.CombinedOutput()
		if (err == nil) != c.want {
			t.Errorf("%s: connect %v (%s), want success %v", c.name, err, out, c.want)
		}
		if !c.want && !strings.Contains(string(out), "permission denied") {
			t.Errorf("%s: refused with %q, want permission denied", c.name, out)
		}
	}
}

func lookupGroup(t *testing.T, name string) uint32 {
	t.Helper()
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Skipf("SKIPPED LOUDLY: this system has no group %s to test with: %v", name, err)
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	if g.Gid == "0" {
		t.Skipf("group %s is root's", name)
	}
	return uint32(gid)
}
