package swtpm

import (
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// Reset simulates a reboot: the control channel re-initialises the TPM
// (as the platform does at power-on), then TPM2_Startup(CLEAR) starts it
// as firmware would. PCRs return to their reset values and transient
// objects and sessions are gone; keys created under the owner hierarchy
// still load.
func (s *Sim) Reset() error {
	if !s.Running() {
		return fmt.Errorf("swtpm: reset: %w", ErrStopped)
	}
	// ptm_init's flags: 0 keeps nothing volatile to resume from.
	if err := control(s.ctrlSock, ctrlInit, binary.BigEndian.AppendUint32(nil, 0)); err != nil {
		return fmt.Errorf("swtpm: reset: %w", err)
	}
	t, err := linuxudstpm.Open(s.tpmSock)
	if err != nil {
		return fmt.Errorf("swtpm: reset: %w", err)
	}
	defer t.Close()
	if _, err := (tpm2.Startup{StartupType: tpm2.TPMSUClear}).Execute(t); err != nil {
		return fmt.Errorf("swtpm: reset: startup: %w", err)
	}
	return nil
}
