package swtpm_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"testing"

	"github.com/babgate/bab/internal/swtpm"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// readPCR reads one SHA-256 PCR straight from the Sim's socket.
func readPCR(t *testing.T, s *swtpm.Sim, index uint) []byte {
	t.Helper()
	tr, err := linuxudstpm.Open(s.Spec[len("swtpm:"):])
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(index),
	}}}}.Execute(tr)
	if err != nil {
		t.Fatalf("read PCR %d: %v", index, err)
	}
	if len(rsp.PCRValues.Digests) != 1 {
		t.Fatalf("read PCR %d: got %d values", index, len(rsp.PCRValues.Digests))
	}
	return rsp.PCRValues.Digests[0].Buffer
}

func TestExtendAndReset(t *testing.T) {
	t.Parallel()
	s := swtpm.StartT(t)
	zero := make([]byte, sha256.Size)
	if got := readPCR(t, s, 16); !bytes.Equal(got, zero) {
		t.Fatalf("PCR 16 at start = %x, want zeros", got)
	}
	if err := s.ExtendPCR(16, []byte("measured")); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("measured"))
	want := sha256.Sum256(append(zero, d[:]...))
	if got := readPCR(t, s, 16); !bytes.Equal(got, want[:]) {
		t.Fatalf("PCR 16 after extend = %x, want %x", got, want)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := readPCR(t, s, 16); !bytes.Equal(got, zero) {
		t.Fatalf("PCR 16 after reset = %x, want zeros", got)
	}
}

func TestManufacturerCA(t *testing.T) {
	t.Parallel()
	s := swtpm.StartT(t)
	ca, err := s.ManufacturerCA()
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA {
		t.Errorf("ManufacturerCA().IsCA = false, want true")
	}
	root, err := s.ManufacturerRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.CheckSignatureFrom(root); err != nil {
		t.Errorf("manufacturer CA is not signed by the root: %v", err)
	}
}

func TestStopEndsProcess(t *testing.T) {
	t.Parallel()
	s, err := swtpm.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Running() {
		t.Fatal("Running() = false right after Start")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Error("Running() = true after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := s.ExtendPCR(0, nil); err == nil {
		t.Error("ExtendPCR after Stop succeeded")
	}
}

func TestLongDirectoryName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/" + string(bytes.Repeat([]byte("d"), 90))
	s, err := swtpm.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.ExtendPCR(1, []byte("x")); err != nil {
		t.Fatalf("extend with sockets outside a long directory: %v", err)
	}
	if _, err := os.Stat(dir + "/state"); err != nil {
		t.Errorf("state not in Dir: %v", err)
	}
}
