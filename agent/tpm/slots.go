package tpm

import (
	"errors"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// slotWait is how long a command waits for the TPM's object and session
// slots to be freed before it takes them back.
//
// Behind the kernel's resource manager (/dev/tpmrm0) every process sees
// only its own objects and the manager swaps them out, so slots never run
// out. A TPM used without one (a software TPM's socket, /dev/tpm0) has
// three or so, shared by every process that uses it: another process's
// command may hold them for a moment, and one killed between loading a
// key and flushing it leaves its objects there until the TPM restarts.
// Waiting covers the first; what is still there after slotWait is taken
// to be the second and flushed, so an appliance killed mid-signature
// starts again.
const slotWait = 2 * time.Second

// outOfSlots reports whether err is the TPM's warning that it has no room
// for another object or session.
func outOfSlots(err error) bool {
	return errors.Is(err, tpm2.TPMRCObjectMemory) ||
		errors.Is(err, tpm2.TPMRCSessionMemory) ||
		errors.Is(err, tpm2.TPMRCMemory)
}

// flushLeftovers flushes every transient object and loaded session the TPM
// holds. It is called with none of this process's own loaded.
func flushLeftovers(tr transport.TPM) {
	for _, ht := range []tpm2.TPMHT{tpm2.TPMHTTransient, tpm2.TPMHTHMACSession, tpm2.TPMHTPolicySession} {
		rsp, err := tpm2.GetCapability{
			Capability:    tpm2.TPMCapHandles,
			Property:      uint32(ht) << 24,
			PropertyCount: 64,
		}.Execute(tr)
		if err != nil {
			continue
		}
		handles, err := rsp.CapabilityData.Data.Handles()
		if err != nil {
			continue
		}
		for _, h := range handles.Handle {
			flush(tr, h)
		}
	}
}
