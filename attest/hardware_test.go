package attest_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/internal/loudskip"
)

// TestHardwareTPM runs the attestation basics on the machine's own TPM. It
// skips where there is none; it creates only transient objects and key
// blobs, so it leaves nothing behind in the TPM.
func TestHardwareTPM(t *testing.T) {
	if _, err := os.Stat(tpm.DefaultDevice); errors.Is(err, fs.ErrNotExist) {
		loudskip.Skip(t, "no hardware TPM: %s is absent", tpm.DefaultDevice)
	}
	tp := openSpec(t, "")
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatalf("EndorsementKey: %v", err)
	}
	t.Logf("EK %s %s, certificate present: %v", ek.Kind, attest.EKHash(ek.Public), ek.Cert != nil)
	start := time.Now()
	ak, akPub := newAK(t, tp)
	t.Logf("timing: AK creation %v", time.Since(start))
	n := nonce(t, 32)
	start = time.Now()
	values := quote(t, tp, ak, akPub, n)
	t.Logf("timing: quote + verify %v", time.Since(start))
	if len(values) != len(quotedPCRs) {
		t.Errorf("VerifyQuote returned %d values, want %d", len(values), len(quotedPCRs))
	}
}
