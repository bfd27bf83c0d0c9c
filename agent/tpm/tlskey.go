package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TLSKey is the appliance's TLS key: an ECC P-256 signing key that cannot
// leave the TPM, with the AK's certification that it is such a key.
type TLSKey struct {
	// Blob reloads the key on this TPM (TPM2B_PUBLIC || TPM2B_PRIVATE);
	// it is what the appliance stores, next to its certificate.
	Blob []byte
	// Public is the key's TPMT_PUBLIC.
	Public []byte
	// CertifyAttest is the TPMS_ATTEST of TPM2_Certify naming the key.
	CertifyAttest []byte
	// CertifySignature is the AK's TPMT_SIGNATURE over CertifyAttest.
	CertifySignature []byte
}

// NewTLSKey creates a TLS key under the SRK and has ak certify it with
// TPM2_Certify, nonce being the exchange's qualifying data.
func (t *TPM) NewTLSKey(ak *AK, nonce []byte) (*TLSKey, error) {
	if len(nonce) > maxNonce {
		return nil, fmt.Errorf("tpm: new TLS key: nonce of %d bytes, at most %d", len(nonce), maxNonce)
	}
	var k *TLSKey
	err := t.with(func(tr transport.TPM) error {
		blob, err := createUnderSRK(tr, eccSigningTemplate(false))
		if err != nil {
			return err
		}
		akh, _, err := loadUnderSRK(tr, ak.Blob)
		if err != nil {
			return fmt.Errorf("attestation key: %w", err)
		}
		defer flush(tr, akh.Handle)
		kh, _, err := loadUnderSRK(tr, blob)
		if err != nil {
			return fmt.Errorf("new key: %w", err)
		}
		defer flush(tr, kh.Handle)
		rsp, err := tpm2.Certify{
			ObjectHandle:   tpm2.AuthHandle{Handle: kh.Handle, Name: kh.Name, Auth: tpm2.PasswordAuth(nil)},
			SignHandle:     tpm2.AuthHandle{Handle: akh.Handle, Name: akh.Name, Auth: tpm2.PasswordAuth(nil)},
			QualifyingData: tpm2.TPM2BData{Buffer: nonce},
			InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
		}.Execute(tr)
		if err != nil {
			return fmt.Errorf("certify: %w", err)
		}
		pub, _, err := splitBlob(blob)
		if err != nil {
			return err
		}
		k = &TLSKey{
			Blob:             blob,
			Public:           pub,
			CertifyAttest:    rsp.CertifyInfo.Bytes(),
			CertifySignature: tpm2.Marshal(rsp.Signature),
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: new TLS key: %w", classify(err))
	}
	return k, nil
}
