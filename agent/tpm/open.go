package tpm

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// DefaultDevice is the kernel's TPM 2.0 resource manager, which lets
// several processes share the TPM and flushes what a process leaves.
const DefaultDevice = "/dev/tpmrm0"

// swtpmPrefix marks a software TPM's Unix socket in a spec.
const swtpmPrefix = "swtpm:"

// TPM is an open connection to a TPM. Its methods are safe for concurrent
// use; commands are sent one at a time.
type TPM struct {
	mu     sync.Mutex
	t      transport.TPMCloser // nil after Close
	closed bool
}

// Open connects to the TPM that spec names: "" for /dev/tpmrm0, a device
// path, or "swtpm:PATH" for a software TPM's Unix socket. It checks that
// the TPM answers before returning.
func Open(spec string) (*TPM, error) {
	t, err := openTransport(spec)
	if err != nil {
		return nil, fmt.Errorf("tpm: open: %w", classify(err))
	}
	if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(t); err != nil {
		t.Close()
		return nil, fmt.Errorf("tpm: open: %w", classify(err))
	}
	return &TPM{t: t}, nil
}

// openTransport picks the transport for spec.
func openTransport(spec string) (transport.TPMCloser, error) {
	switch {
	case spec == "":
		return linuxtpm.Open(DefaultDevice)
	case strings.HasPrefix(spec, swtpmPrefix):
		path := strings.TrimPrefix(spec, swtpmPrefix)
		if path == "" {
			return nil, fmt.Errorf("%w: %q", ErrBadSpec, spec)
		}
		// A software TPM serves one connection at a time; this transport
		// connects per command, so other clients of the same one (a test
		// extending PCRs, another appliance) are not locked out while
		// this TPM is open.
		return openSwtpm(path)
	case strings.Contains(spec, ":"):
		return nil, fmt.Errorf("%w: %q", ErrBadSpec, spec)
	default:
		return linuxtpm.Open(spec)
	}
}

// Close closes the connection. Keys stay usable from their blobs.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.t.Close()
	t.t = nil
	if err != nil {
		return fmt.Errorf("tpm: close: %w", err)
	}
	return nil
}

// with runs f with exclusive use of the transport. Every f flushes what
// it loads before it returns, so when the TPM has no room left for f's
// objects, others hold them: f is run again once they are gone (see
// waitForSlots).
func (t *TPM) with(f func(tr transport.TPM) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	deadline := time.Now().Add(slotWait)
	cleared := false
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := f(t.t)
		if !outOfSlots(err) {
			return err
		}
		if time.Now().After(deadline) {
			if cleared {
				return err
			}
			flushLeftovers(t.t)
			cleared = true
			continue
		}
		time.Sleep(wait)
	}
}
