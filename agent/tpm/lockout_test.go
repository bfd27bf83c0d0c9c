package tpm

import (
	"errors"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/swtpm"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TestLockoutIsReported drives a software TPM into dictionary-attack
// lockout with wrong passwords for a DA-protected key, then checks that
// the TPM's answer maps to ErrLockout.
func TestLockoutIsReported(t *testing.T) {
	t.Parallel()
	sim := swtpm.StartT(t)
	tp, err := Open(sim.Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	var last error
	err = tp.with(func(tr transport.TPM) error {
		tmpl := eccSigningTemplate(false)
		tmpl.ObjectAttributes.NoDA = false
		rsp, err := tpm2.CreatePrimary{
			PrimaryHandle: tpm2.TPMRHOwner,
			InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
				UserAuth: tpm2.TPM2BAuth{Buffer: []byte("right")},
			}},
			InPublic: tpm2.New2B(tmpl),
		}.Execute(tr)
		if err != nil {
			return err
		}
		defer flush(tr, rsp.ObjectHandle)
		for range 100 {
			_, last = tpm2.Sign{
				KeyHandle:  tpm2.AuthHandle{Handle: rsp.ObjectHandle, Name: rsp.Name, Auth: tpm2.PasswordAuth([]byte("wrong"))},
				Digest:     tpm2.TPM2BDigest{Buffer: make([]byte, 32)},
				InScheme:   tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
				Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
			}.Execute(tr)
			if errors.Is(last, tpm2.TPMRCLockout) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := classify(last)
	if !errors.Is(got, ErrLockout) {
		t.Fatalf("after 100 wrong passwords the TPM said %v; classified %v, want ErrLockout", last, got)
	}
	if !strings.Contains(got.Error(), "firmware") {
		t.Errorf("lockout error %q does not say what to do", got)
	}
}
