package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// swtpmConnectWait bounds how long a command waits for a software TPM
// that is busy with other processes' commands.
const swtpmConnectWait = 5 * time.Second

// swtpmConn sends each command to a software TPM's Unix socket on a
// connection of its own. The software TPM serves one connection at a time
// with a short queue, so a connection refused with EAGAIN while other
// processes are served is tried again rather than failing the command.
type swtpmConn struct{ path string }

func openSwtpm(path string) (*swtpmConn, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("%w: %s (%s)", linuxudstpm.ErrFileIsNotSocket, fi.Mode(), path)
	}
	return &swtpmConn{path: path}, nil
}

// Send sends one command and reads its whole response, whose length is in
// its header.
func (s *swtpmConn) Send(cmd []byte) ([]byte, error) {
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(cmd); err != nil {
		return nil, err
	}
	var head [10]byte // tag, size, response code
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	size := binary.BigEndian.Uint32(head[2:6])
	if size < uint32(len(head)) || size > 1<<16 {
		return nil, fmt.Errorf("read response: size %d in its header", size)
	}
	rsp := make([]byte, size)
	copy(rsp, head[:])
	if _, err := io.ReadFull(c, rsp[len(head):]); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return rsp, nil
}

// dial connects, waiting while the socket's queue is full.
func (s *swtpmConn) dial() (net.Conn, error) {
	deadline := time.Now().Add(swtpmConnectWait)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		c, err := net.Dial("unix", s.path)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(wait)
	}
}

// Close does nothing: no connection outlives its command.
func (s *swtpmConn) Close() error { return nil }
