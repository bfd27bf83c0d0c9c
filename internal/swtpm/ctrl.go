package swtpm

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// Commands of swtpm's control channel (its tpm_ioctl.h): a big-endian
// command code, the payload, and a big-endian result code in reply.
const (
	ctrlInit     uint32 = 2
	ctrlShutdown uint32 = 3
)

// ctrlTimeout bounds one control-channel exchange.
const ctrlTimeout = 10 * time.Second

// control sends one command with payload on the control socket at path and
// checks the result code swtpm answers with.
func control(path string, cmd uint32, payload []byte) error {
	c, err := net.DialTimeout("unix", path, ctrlTimeout)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(ctrlTimeout)); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	msg := binary.BigEndian.AppendUint32(nil, cmd)
	msg = append(msg, payload...)
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	var res [4]byte
	if _, err := io.ReadFull(c, res[:]); err != nil {
		return fmt.Errorf("control: read result: %w", err)
	}
	if rc := binary.BigEndian.Uint32(res[:]); rc != 0 {
		return fmt.Errorf("control: %w: command %d, result 0x%x", ErrControl, cmd, rc)
	}
	return nil
}
