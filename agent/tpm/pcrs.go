package tpm

import (
	"fmt"
	"slices"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// maxPCR is the highest PCR index a PC Client TPM has.
const maxPCR = 23

// pcrSelection checks pcrs and turns them into a SHA-256 bank selection.
func pcrSelection(pcrs []int) (tpm2.TPMLPCRSelection, error) {
	if len(pcrs) == 0 {
		return tpm2.TPMLPCRSelection{}, fmt.Errorf("no PCRs selected")
	}
	idx := make([]uint, 0, len(pcrs))
	for _, p := range pcrs {
		if p < 0 || p > maxPCR {
			return tpm2.TPMLPCRSelection{}, fmt.Errorf("PCR %d out of range 0..%d", p, maxPCR)
		}
		if slices.Contains(idx, uint(p)) {
			return tpm2.TPMLPCRSelection{}, fmt.Errorf("PCR %d selected twice", p)
		}
		idx = append(idx, uint(p))
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      tpm2.TPMAlgSHA256,
		PCRSelect: tpm2.PCClientCompatible.PCRs(idx...),
	}}}, nil
}

// readPCRs reads the SHA-256 values of pcrs. A TPM returns at most eight
// digests per TPM2_PCR_Read, so it asks again for what is left.
func readPCRs(tr transport.TPM, pcrs []int) (map[int][]byte, error) {
	want := slices.Clone(pcrs)
	slices.Sort(want)
	out := make(map[int][]byte, len(want))
	for len(want) > 0 {
		sel, err := pcrSelection(want)
		if err != nil {
			return nil, err
		}
		rsp, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(tr)
		if err != nil {
			return nil, fmt.Errorf("read PCRs: %w", err)
		}
		got := selectedPCRs(rsp.PCRSelectionOut)
		if len(got) == 0 || len(got) != len(rsp.PCRValues.Digests) {
			return nil, fmt.Errorf("read PCRs: the TPM returned %d values for %d PCRs", len(rsp.PCRValues.Digests), len(got))
		}
		for i, p := range got {
			if !slices.Contains(want, p) {
				return nil, fmt.Errorf("read PCRs: the TPM returned PCR %d, which was not asked for", p)
			}
			out[p] = rsp.PCRValues.Digests[i].Buffer
		}
		want = slices.DeleteFunc(want, func(p int) bool { _, ok := out[p]; return ok })
	}
	return out, nil
}

// selectedPCRs lists the SHA-256 PCRs a selection names, in ascending
// order, which is the order the TPM returns and digests values in.
func selectedPCRs(sel tpm2.TPMLPCRSelection) []int {
	var out []int
	for _, s := range sel.PCRSelections {
		if s.Hash != tpm2.TPMAlgSHA256 {
			continue
		}
		for i, b := range s.PCRSelect {
			for bit := range 8 {
				if b&(1<<bit) != 0 {
					out = append(out, i*8+bit)
				}
			}
		}
	}
	return out
}
