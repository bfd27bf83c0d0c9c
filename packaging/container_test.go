package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/babgate/bab/internal/loudskip"
)

// container is this machine's own system booted by systemd-nspawn as a
// throwaway container: the root directory read-only under a tmpfs overlay
// (nothing written inside reaches the host), a network namespace with only
// loopback, and systemd as its init, brought up to basic.target so that
// none of the host's own services start. Inside it the packaged units run
// under their real hardening, which only a service manager applies.
type container struct {
	init   int // the container's systemd, as seen from the host
	nspawn *exec.Cmd
}

// bootContainer boots the container, or skips the test when this machine
// cannot (not root, no overlay or container support): the reason says why.
func bootContainer(t *testing.T) *container {
	t.Helper()
	if os.Geteuid() != 0 {
		loudskip.Skip(t, "needs root: boots a container with systemd-nspawn to run the packaged services (run the tests as root to cover them)")
	}
	if _, err := exec.LookPath("systemd-nspawn"); err != nil {
		t.Fatal("systemd-nspawn not found: scripts/deps installs it (package systemd-container)")
	}
	// nspawn refuses to boot "/" itself; a bind mount of it, in a mount
	// namespace of the container's own, is the same tree.
	mnt := t.TempDir()
	args := []string{"--volatile=overlay", "--boot", "--register=no", "--console=passive", "--private-network",
		fmt.Sprintf("--machine=bab-test-%d", os.Getpid())}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		args = append(args, "--keep-unit") // no service manager on the host to make a scope
	}
	args = append(args, "systemd.unit=basic.target")
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private",
		"sh", "-c", `mount --bind / "$0" && exec systemd-nspawn --directory="$0" "$@"`, mnt}, args...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		loudskip.Skip(t, "cannot start a mount namespace for the container: %v", err)
	}
	c := &container{nspawn: cmd}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// SIGTERM asks nspawn to shut the container down cleanly.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			loudskip.Skip(t, "systemd-nspawn cannot boot a container on this machine:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not boot in 60s:\n%s", log.String())
		}
		if c.init == 0 {
			c.init = childNamed(cmd.Process.Pid, "systemd")
		}
		if c.init != 0 {
			out, _ := c.run("systemctl", "is-system-running")
			if s := strings.TrimSpace(out); s == "running" || s == "degraded" {
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// childNamed is the pid of a child of parent whose command is name, or 0.
func childNamed(parent int, name string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at ')'.
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		f := strings.Fields(s[rp+1:])
		if len(f) > 1 && s[lp+1:rp] == name && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

// run runs a command inside the container, its output combined.
func (c *container) run(args ...string) (string, error) {
	return c.runInput("", args...)
}

func (c *container) runInput(input string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--target", strconv.Itoa(c.init), "--all", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "SYSTEMD_PAGER="}
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return string(out), err
}

// must runs a command inside the container and fails the test if it fails.
func (c *container) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// write replaces a file's content inside the container, keeping its owner
// and mode when it exists.
func (c *container) write(t *testing.T, path, content string) {
	t.Helper()
	if out, err := c.runInput(content, "sh", "-c", `cat > "$0"`, path); err != nil {
		t.Fatalf("write %s: %v\n%s", path, err, out)
	}
}

// copyIn puts a host file into the container.
func (c *container) copyIn(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	must(t, err)
	c.write(t, dst, string(b))
}

// show is a unit's properties as systemctl show gives them.
func (c *container) show(t *testing.T, unit string) map[string]string {
	t.Helper()
	props := map[string]string{}
	for _, l := range strings.Split(c.must(t, "systemctl", "show", unit, "-p", "ActiveState,SubState,MainPID,NRestarts,StatusText,WatchdogUSec,Result"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			props[k] = v
		}
	}
	return props
}

// journal is what a unit logged, for failure messages.
func (c *container) journal(unit string) string {
	out, _ := c.run("journalctl", "--no-pager", "-o", "cat", "-n", "40", "-u", unit)
	return out
}
