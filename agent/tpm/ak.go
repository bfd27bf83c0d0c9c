package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2/transport"
)

// AK is an attestation key: a restricted ECC P-256 signing key under the
// SRK that signs only TPM-generated quotes and certifications.
type AK struct {
	// Public is the key's TPMT_PUBLIC, which the exchange parses and names.
	Public []byte
	// Blob reloads the key on this TPM (TPM2B_PUBLIC || TPM2B_PRIVATE).
	Blob []byte
}

// NewAK creates an attestation key.
func (t *TPM) NewAK() (*AK, error) {
	var blob []byte
	err := t.with(func(tr transport.TPM) (err error) {
		blob, err = createUnderSRK(tr, eccSigningTemplate(true))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: new attestation key: %w", classify(err))
	}
	pub, _, err := splitBlob(blob)
	if err != nil {
		return nil, fmt.Errorf("tpm: new attestation key: %w", err)
	}
	return &AK{Public: pub, Blob: blob}, nil
}
