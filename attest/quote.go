package attest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"

	"github.com/google/go-tpm/tpm2"
)

// Quote is what an appliance answers a nonce with; the fields are those
// of agent/tpm.Quote, declared here so the exchange does not import the
// agent.
type Quote struct {
	// Attest is the TPMS_ATTEST the AK signed.
	Attest []byte
	// Signature is the AK's TPMT_SIGNATURE over Attest.
	Signature []byte
	// PCRs are the SHA-256 PCR values the appliance read with the quote.
	PCRs map[int][]byte
}

// VerifyQuote checks that q is a quote signed by ak over exactly the
// SHA-256 PCRs pcrs, answering nonce, and that q.PCRs are the values the
// TPM signed. It returns those values.
func VerifyQuote(ak *AKPublic, q Quote, nonce []byte, pcrs []int) (map[int][]byte, error) {
	a, err := verifyStatement(ak, q.Attest, q.Signature, nonce, tpm2.TPMSTAttestQuote)
	if err != nil {
		return nil, fmt.Errorf("attest: verify quote: %w", err)
	}
	info, err := a.Attested.Quote()
	if err != nil {
		return nil, fmt.Errorf("attest: verify quote: %w: %w", ErrMalformed, err)
	}
	got, err := quotedPCRs(info.PCRSelect)
	if err != nil {
		return nil, fmt.Errorf("attest: verify quote: %w", err)
	}
	want := slices.Clone(pcrs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return nil, fmt.Errorf("attest: verify quote: %w: quoted %v, requested %v", ErrPCRSelection, got, want)
	}
	// The TPM digests the values in ascending PCR order.
	h := sha256.New()
	values := make(map[int][]byte, len(got))
	for _, p := range got {
		v, ok := q.PCRs[p]
		if !ok || len(v) != sha256.Size {
			return nil, fmt.Errorf("attest: verify quote: %w: PCR %d missing or not a SHA-256 value", ErrPCRDigest, p)
		}
		h.Write(v)
		values[p] = bytes.Clone(v)
	}
	if !bytes.Equal(h.Sum(nil), info.PCRDigest.Buffer) {
		return nil, fmt.Errorf("attest: verify quote: %w", ErrPCRDigest)
	}
	if extra := len(q.PCRs) - len(values); extra > 0 {
		return nil, fmt.Errorf("attest: verify quote: %w: %d unquoted values sent (%v)", ErrPCRSelection, extra, slices.Sorted(maps.Keys(q.PCRs)))
	}
	return values, nil
}

// quotedPCRs lists the PCRs a quote covers, ascending; it accepts only a
// single SHA-256 bank.
func quotedPCRs(sel tpm2.TPMLPCRSelection) ([]int, error) {
	if len(sel.PCRSelections) != 1 || sel.PCRSelections[0].Hash != tpm2.TPMAlgSHA256 {
		return nil, fmt.Errorf("%w: not a single SHA-256 bank", ErrPCRSelection)
	}
	var out []int
	for i, b := range sel.PCRSelections[0].PCRSelect {
		for bit := range 8 {
			if b&(1<<bit) != 0 {
				out = append(out, i*8+bit)
			}
		}
	}
	return out, nil
}
