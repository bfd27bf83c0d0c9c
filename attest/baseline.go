package attest

import (
	"bytes"
	"slices"
)

// Baseline is the PCR values recorded for an appliance at enrollment (or
// set by ops as golden values), by PCR index.
type Baseline map[int][]byte

// Diff returns the sorted PCR indexes whose values in got differ from the
// baseline. A PCR present on one side only counts as different.
func (b Baseline) Diff(got map[int][]byte) []int {
	var out []int
	for p, v := range b {
		if g, ok := got[p]; !ok || !bytes.Equal(g, v) {
			out = append(out, p)
		}
	}
	for p := range got {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
