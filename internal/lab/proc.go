package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one running process of ours, its output in a log file.
type Proc struct {
	Name    string
	Args    []string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

func startProc(name, logPath string, env []string, args ...string) (*Proc, error) {
	return startProcAs(name, logPath, env, 0, args...)
}

// startProcAs is startProc with the process's group set to gid (0 keeps
// the lab's).
func startProcAs(name, logPath string, env []string, gid uint32, args ...string) (*Proc, error) {
	return startProcFiles(name, logPath, env, gid, nil, args...)
}

// startProcFiles is startProcAs with extra open files for the process
// (its descriptors 3 and up).
func startProcFiles(name, logPath string, env []string, gid uint32, extra []*os.File, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.ExtraFiles = extra
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the lab
	if gid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(os.Geteuid()), Gid: gid}
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	p := &Proc{Name: name, Args: args, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop asks the process to end (SIGTERM) and kills it after 10 s.
func (p *Proc) Stop() error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) && !ee.Exited() {
			return nil
		}
		return p.err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("lab: %s did not stop within 10s of SIGTERM", p.Name)
	}
}

// Kill ends the process at once, as a crash would.
func (p *Proc) Kill() {
	if !p.Exited() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// RSS is the process's resident set size in bytes.
func (p *Proc) RSS() (int64, error) { return rssOf("/proc/" + strconv.Itoa(p.PID()) + "/status") }

// SelfRSS is the calling process's resident set size in bytes.
func SelfRSS() (int64, error) { return rssOf("/proc/self/status") }

func rssOf(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("lab: no VmRSS in " + path)
}

// Dump asks a Go process for its goroutines' stacks (SIGQUIT, on which it
// prints them and exits) and waits up to 5 s for it to end: what a test
// shows when a process of ours hangs.
func (p *Proc) Dump() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// Log returns what the process wrote so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// run runs a short command of ours to completion and returns its output.
func run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// CPUTime is the CPU time (user and system) the process has used so far.
func (p *Proc) CPUTime() (time.Duration, error) {
	return cpuTimeOf("/proc/" + strconv.Itoa(p.PID()) + "/stat")
}

// SelfCPUTime is the CPU time of the calling process.
func SelfCPUTime() (time.Duration, error) { return cpuTimeOf("/proc/self/stat") }

// clockTick is the kernel's USER_HZ, which is 100 on every Linux
// architecture Bab ships for.
const clockTick = 10 * time.Millisecond

func cpuTimeOf(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its closing
	// parenthesis are plain. utime and stime are fields 14 and 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("lab: unreadable " + path)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("lab: short " + path)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("lab: bad times in " + path)
	}
	return time.Duration(ut+st) * clockTick, nil
}
