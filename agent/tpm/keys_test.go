package tpm_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/internal/swtpm"
)

// open starts a software TPM and opens it.
func open(t *testing.T) *tpm.TPM {
	t.Helper()
	sim := swtpm.StartT(t)
	tp, err := tpm.Open(sim.Spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

func TestEndorsementKeyHasCertificate(t *testing.T) {
	t.Parallel()
	tp := open(t)
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	if ek.Cert == nil {
		t.Fatal("Cert = nil, want the manufacturer's certificate")
	}
	if got, want := ek.Kind, "rsa"; got != want {
		t.Errorf("Kind = %q, want %q", got, want)
	}
	if !ek.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(ek.Public) {
		t.Error("the certificate is for another key than Public")
	}
	again, err := tp.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.PublicArea, ek.PublicArea) {
		t.Error("the EK changed between two calls")
	}
}

func TestSignerRefusesBadBlobs(t *testing.T) {
	t.Parallel()
	tp := open(t)
	ak, err := tp.NewAK()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want error
	}{
		{"empty", nil, tpm.ErrKeyUnusable},
		{"truncated", ak.Blob[:len(ak.Blob)-3], tpm.ErrKeyUnusable},
		{"corrupted private part", flipLast(ak.Blob), tpm.ErrKeyUnusable},
		{"attestation key", ak.Blob, tpm.ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tp.Signer(tc.blob); !errors.Is(err, tc.want) {
				t.Errorf("Signer = %v, want %v", err, tc.want)
			}
		})
	}
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 0xff
	return c
}

func TestSignerConcurrentUse(t *testing.T) {
	t.Parallel()
	tp := open(t)
	s, err := tp.Signer(tlsKeyBlob(t, tp))
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*ecdsa.PublicKey)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				d := sha256.Sum256([]byte(fmt.Sprint(g, i)))
				sig, err := s.Sign(nil, d[:], crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				if !ecdsa.VerifyASN1(pub, d[:], sig) {
					errs <- fmt.Errorf("goroutine %d signature %d does not verify", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := s.Sign(nil, make([]byte, 48), crypto.SHA384); !errors.Is(err, tpm.ErrUnsupportedKey) {
		t.Errorf("Sign(SHA-384) = %v, want ErrUnsupportedKey", err)
	}
}

func TestQuoteRefusesBadSelection(t *testing.T) {
	t.Parallel()
	tp := open(t)
	ak, err := tp.NewAK()
	if err != nil {
		t.Fatal(err)
	}
	for _, pcrs := range [][]int{nil, {24}, {-1}, {3, 3}} {
		if _, err := tp.Quote(ak, nil, pcrs); err == nil {
			t.Errorf("Quote(%v) succeeded, want an error", pcrs)
		}
	}
	all := make([]int, 24)
	for i := range all {
		all[i] = i
	}
	q, err := tp.Quote(ak, []byte("n"), all)
	if err != nil {
		t.Fatalf("Quote of all 24 PCRs: %v", err)
	}
	if len(q.PCRs) != 24 {
		t.Errorf("Quote of all 24 PCRs returned %d values", len(q.PCRs))
	}
}
