package swtpm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// readyTimeout bounds how long Start waits for a new process to answer.
const readyTimeout = 10 * time.Second

// stopTimeout bounds how long Stop waits for swtpm to exit on its own
// before killing it.
const stopTimeout = 5 * time.Second

// maxSocketPath keeps socket paths below the kernel's limit for Unix
// socket addresses (108 bytes including the terminating NUL).
const maxSocketPath = 100

// Sim is a running swtpm process with an EK certificate from its own local
// CA.
type Sim struct {
	// Dir holds the TPM state, the local CA and, when the path is short
	// enough, the sockets.
	Dir string
	// Spec is what agent/tpm.Open takes to reach this TPM.
	Spec string

	tpmSock  string
	ctrlSock string
	sockDir  string // a separate short directory for the sockets, or ""

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	stopOnce sync.Once
	stopErr  error
}

// Start manufactures a TPM in dir (which it creates if needed) and runs
// swtpm on Unix sockets in it, returning once the TPM answers commands.
// The process is killed if the calling process dies.
func Start(dir string) (*Sim, error) {
	if _, err := exec.LookPath("swtpm"); err != nil {
		return nil, fmt.Errorf("swtpm: start: %w", ErrNotInstalled)
	}
	if _, err := exec.LookPath("swtpm_setup"); err != nil {
		return nil, fmt.Errorf("swtpm: start: %w", ErrNotInstalled)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("swtpm: start: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("swtpm: start: %w", err)
	}
	if err := manufacture(dir); err != nil {
		return nil, fmt.Errorf("swtpm: start: %w", err)
	}
	s := &Sim{Dir: dir, done: make(chan struct{})}
	sockets := dir
	if len(filepath.Join(dir, "ctrl.sock")) > maxSocketPath {
		if sockets, err = os.MkdirTemp("", "swtpm"); err != nil {
			return nil, fmt.Errorf("swtpm: start: %w", err)
		}
		s.sockDir = sockets
	}
	s.tpmSock = filepath.Join(sockets, "tpm.sock")
	s.ctrlSock = filepath.Join(sockets, "ctrl.sock")
	s.Spec = "swtpm:" + s.tpmSock
	if err := s.run(); err != nil {
		s.removeSockDir()
		return nil, fmt.Errorf("swtpm: start: %w", err)
	}
	return s, nil
}

// run starts the swtpm process and waits until it answers.
func (s *Sim) run() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "swtpm.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+filepath.Join(s.Dir, "state"),
		"--flags", "not-need-init,startup-clear",
		"--server", "type=unixio,path="+s.tpmSock,
		"--ctrl", "type=unixio,path="+s.ctrlSock)
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.awaitReady(); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
		return err
	}
	return nil
}

// awaitReady polls the TPM with a harmless command until it answers.
func (s *Sim) awaitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%w: swtpm exited (%v), see %s", ErrNotReady, s.cmd.ProcessState, filepath.Join(s.Dir, "swtpm.log"))
		default:
		}
		if last = s.ping(); last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%w: %v", ErrNotReady, last)
}

// ping sends TPM2_GetRandom.
func (s *Sim) ping() error {
	if _, err := os.Stat(s.tpmSock); err != nil {
		return err
	}
	t, err := linuxudstpm.Open(s.tpmSock)
	if err != nil {
		return err
	}
	defer t.Close()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(t)
	return err
}

// Stop shuts the TPM down through its control channel, kills it if it
// does not exit in time, and waits for the process. It is safe to call
// more than once.
func (s *Sim) Stop() error {
	s.stopOnce.Do(func() {
		shutdownErr := control(s.ctrlSock, ctrlShutdown, nil)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.done
			s.stopErr = fmt.Errorf("swtpm: stop: killed after %v: %v", stopTimeout, shutdownErr)
		}
		s.removeSockDir()
	})
	return s.stopErr
}

// removeSockDir removes the separate socket directory, if any.
func (s *Sim) removeSockDir() {
	if s.sockDir != "" {
		_ = os.RemoveAll(s.sockDir)
	}
}

// Running reports whether the swtpm process is still alive.
func (s *Sim) Running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}
