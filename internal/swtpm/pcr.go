package swtpm

import (
	"crypto/sha256"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// ExtendPCR extends PCR index of the SHA-256 bank with the SHA-256 digest
// of data, as a boot component measuring something would.
func (s *Sim) ExtendPCR(index int, data []byte) error {
	if !s.Running() {
		return fmt.Errorf("swtpm: extend PCR %d: %w", index, ErrStopped)
	}
	if index < 0 || index > 23 {
		return fmt.Errorf("swtpm: extend PCR %d: index out of range 0..23", index)
	}
	t, err := linuxudstpm.Open(s.tpmSock)
	if err != nil {
		return fmt.Errorf("swtpm: extend PCR %d: %w", index, err)
	}
	defer t.Close()
	digest := sha256.Sum256(data)
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{
			Handle: tpm2.TPMHandle(index),
			Auth:   tpm2.PasswordAuth(nil),
		},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{
			HashAlg: tpm2.TPMAlgSHA256,
			Digest:  digest[:],
		}}},
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("swtpm: extend PCR %d: %w", index, err)
	}
	return nil
}
