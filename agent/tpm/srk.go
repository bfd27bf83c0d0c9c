package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The storage root key is the owner hierarchy's primary from the TCG's ECC
// P-256 SRK template. Primaries are derived from the hierarchy's seed, so
// the same template gives the same key every time until the TPM is
// cleared; it is recreated for each operation instead of being persisted.
var srkTemplate = tpm2.ECCSRKTemplate

// createSRK creates the SRK as a transient object; the caller flushes it.
func createSRK(tr transport.TPM) (tpm2.NamedHandle, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(srkTemplate),
	}.Execute(tr)
	if err != nil {
		return tpm2.NamedHandle{}, fmt.Errorf("create storage root key: %w", err)
	}
	return tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, nil
}

// flush forgets a transient object or session. Its error is ignored: it
// only fails for handles that are already gone.
func flush(tr transport.TPM, h tpm2.TPMHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(tr)
}

// createUnderSRK creates a key from template under the SRK and returns its
// blob.
func createUnderSRK(tr transport.TPM, template tpm2.TPMTPublic) ([]byte, error) {
	srk, err := createSRK(tr)
	if err != nil {
		return nil, err
	}
	defer flush(tr, srk.Handle)
	rsp, err := tpm2.Create{
		ParentHandle: srk,
		InPublic:     tpm2.New2B(template),
	}.Execute(tr)
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	return marshalBlob(rsp.OutPublic.Bytes(), rsp.OutPrivate.Buffer), nil
}

// loadUnderSRK loads a key blob under the SRK; the caller flushes the
// returned handle. A blob that does not load maps to ErrKeyUnusable.
func loadUnderSRK(tr transport.TPM, blob []byte) (tpm2.NamedHandle, *tpm2.TPMTPublic, error) {
	pubBytes, priv, err := splitBlob(blob)
	if err != nil {
		return tpm2.NamedHandle{}, nil, fmt.Errorf("%w: %w", ErrKeyUnusable, err)
	}
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](pubBytes)
	if err != nil {
		return tpm2.NamedHandle{}, nil, fmt.Errorf("%w: %w: %w", ErrKeyUnusable, errBadBlob, err)
	}
	srk, err := createSRK(tr)
	if err != nil {
		return tpm2.NamedHandle{}, nil, err
	}
	defer flush(tr, srk.Handle)
	rsp, err := tpm2.Load{
		ParentHandle: srk,
		InPrivate:    tpm2.TPM2BPrivate{Buffer: priv},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](pubBytes),
	}.Execute(tr)
	if err != nil {
		return tpm2.NamedHandle{}, nil, fmt.Errorf("load key: %w", classifyLoad(err))
	}
	return tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, pub, nil
}
