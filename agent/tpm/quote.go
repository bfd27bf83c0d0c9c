package tpm

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// maxNonce is the largest qualifying data a TPM accepts (TPM2B_DATA).
const maxNonce = 64

// quoteAttempts bounds how often Quote retries when a PCR changed between
// the quote and reading the values.
const quoteAttempts = 3

// Quote is a TPM-signed statement of PCR values.
type Quote struct {
	// Attest is the TPMS_ATTEST the AK signed.
	Attest []byte
	// Signature is the TPMT_SIGNATURE over Attest.
	Signature []byte
	// PCRs are the SHA-256 values read right after the quote; their digest
	// matches the one in Attest.
	PCRs map[int][]byte
}

// Quote has the AK sign the SHA-256 values of pcrs together with the
// exchange's nonce.
func (t *TPM) Quote(ak *AK, nonce []byte, pcrs []int) (*Quote, error) {
	if len(nonce) > maxNonce {
		return nil, fmt.Errorf("tpm: quote: nonce of %d bytes, at most %d", len(nonce), maxNonce)
	}
	sel, err := pcrSelection(pcrs)
	if err != nil {
		return nil, fmt.Errorf("tpm: quote: %w", err)
	}
	var q *Quote
	err = t.with(func(tr transport.TPM) error {
		akh, _, err := loadUnderSRK(tr, ak.Blob)
		if err != nil {
			return fmt.Errorf("attestation key: %w", err)
		}
		defer flush(tr, akh.Handle)
		for range quoteAttempts {
			q, err = quoteOnce(tr, akh, nonce, sel, pcrs)
			if err != nil || q != nil {
				return err
			}
		}
		return fmt.Errorf("PCRs kept changing while being quoted")
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: quote: %w", classify(err))
	}
	return q, nil
}

// quoteOnce quotes and reads the values; it returns nil, nil if they no
// longer match the quoted digest (a PCR was extended in between).
func quoteOnce(tr transport.TPM, akh tpm2.NamedHandle, nonce []byte, sel tpm2.TPMLPCRSelection, pcrs []int) (*Quote, error) {
	rsp, err := tpm2.Quote{
		SignHandle:     akh,
		QualifyingData: tpm2.TPM2BData{Buffer: nonce},
		InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
		PCRSelect:      sel,
	}.Execute(tr)
	if err != nil {
		return nil, err
	}
	values, err := readPCRs(tr, pcrs)
	if err != nil {
		return nil, err
	}
	attest, err := rsp.Quoted.Contents()
	if err != nil {
		return nil, fmt.Errorf("parse quote: %w", err)
	}
	info, err := attest.Attested.Quote()
	if err != nil {
		return nil, fmt.Errorf("parse quote: %w", err)
	}
	h := sha256.New()
	for _, p := range selectedPCRs(info.PCRSelect) {
		h.Write(values[p])
	}
	if !bytes.Equal(h.Sum(nil), info.PCRDigest.Buffer) {
		return nil, nil
	}
	return &Quote{
		Attest:    rsp.Quoted.Bytes(),
		Signature: tpm2.Marshal(rsp.Signature),
		PCRs:      values,
	}, nil
}
