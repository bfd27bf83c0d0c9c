package tpm

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// classify puts the package's sentinel in front of transport and TPM
// errors an installer can act on, keeping the original in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrNoDevice, ErrPermission, ErrLockout, ErrKeyUnusable, ErrBadSpec, ErrClosed} {
		if errors.Is(err, s) {
			return err
		}
	}
	switch {
	case errors.Is(err, tpm2.TPMRCLockout):
		return fmt.Errorf("%w: %w", ErrLockout, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	case errors.Is(err, fs.ErrNotExist),
		errors.Is(err, linuxtpm.ErrFileIsNotDevice),
		errors.Is(err, linuxudstpm.ErrFileIsNotSocket),
		errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	return err
}

// classifyLoad is classify for loading a stored key blob: a TPM error
// (rather than a warning such as "out of memory, retry") means the blob is
// not this TPM's, or no longer is.
func classifyLoad(err error) error {
	err = classify(err)
	var rc tpm2.TPMRC
	if errors.As(err, &rc) && !rc.IsWarning() && !errors.Is(err, ErrLockout) {
		return fmt.Errorf("%w: %w", ErrKeyUnusable, err)
	}
	return err
}
