package tpm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/internal/swtpm"
)

// tlsKeyBlob makes a TLS key on tp and returns its blob.
func tlsKeyBlob(t *testing.T, tp *tpm.TPM) []byte {
	t.Helper()
	ak, err := tp.NewAK()
	if err != nil {
		t.Fatal(err)
	}
	key, err := tp.NewTLSKey(ak, []byte("nonce"))
	if err != nil {
		t.Fatal(err)
	}
	return key.Blob
}

// signOnce loads blob as a signer on tp and checks one signature.
func signOnce(tp *tpm.TPM, blob []byte) error {
	s, err := tp.Signer(blob)
	if err != nil {
		return err
	}
	d := sha256.Sum256([]byte("hello"))
	sig, err := s.Sign(nil, d[:], crypto.SHA256)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), d[:], sig) {
		return errBadSignature
	}
	return nil
}

type sentinel string

func (s sentinel) Error() string { return string(s) }

const errBadSignature = sentinel("signature does not verify")

// A process killed between loading a key and flushing it leaves the object
// in a TPM that has no resource manager (a software TPM, /dev/tpm0), and
// the TPM has only a few slots. An appliance started after such crashes
// must still sign: it clears what no live command holds.
func TestObjectsLeftByAKilledProcess(t *testing.T) {
	t.Parallel()
	sim := swtpm.StartT(t)
	tp, err := tpm.Open(sim.Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	blob := tlsKeyBlob(t, tp)

	// The crashed processes: primaries created and never flushed, until the
	// TPM refuses one more.
	raw, err := linuxudstpm.Open(strings.TrimPrefix(sim.Spec, "swtpm:"))
	if err != nil {
		t.Fatal(err)
	}
	leaked := 0
	for ; leaked < 16; leaked++ {
		_, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(raw)
		if err != nil {
			break
		}
	}
	raw.Close()
	if leaked == 0 || leaked == 16 {
		t.Fatalf("leaked %d objects: the software TPM's slots are not what this test expects", leaked)
	}
	if err := signOnce(tp, blob); err != nil {
		t.Fatalf("after %d objects left by a killed process: %v", leaked, err)
	}
}

// Several processes may share a TPM that has no resource manager: the
// lab's extra appliances share one software TPM. Their commands
// interleave, so one may find every slot taken for a moment; it waits for
// one rather than failing.
func TestSharedTPMWithoutResourceManager(t *testing.T) {
	t.Parallel()
	sim := swtpm.StartT(t)
	const procs, rounds = 3, 15
	tps := make([]*tpm.TPM, procs)
	for i := range tps {
		tp, err := tpm.Open(sim.Spec)
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		tps[i] = tp
	}
	blob := tlsKeyBlob(t, tps[0])
	var wg sync.WaitGroup
	errs := make(chan error, procs*rounds)
	for _, tp := range tps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := signOnce(tp, blob); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d signers failed on a shared TPM", n, procs*rounds)
	}
}
