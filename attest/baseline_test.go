package attest_test

import (
	"slices"
	"testing"

	"github.com/babgate/bab/attest"
)

func TestBaselineDiff(t *testing.T) {
	a, b, c := []byte{1}, []byte{2}, []byte{3}
	base := attest.Baseline{0: a, 7: b, 16: c}
	for _, tc := range []struct {
		name string
		got  map[int][]byte
		want []int
	}{
		{"same", map[int][]byte{0: a, 7: b, 16: c}, nil},
		{"one changed", map[int][]byte{0: a, 7: c, 16: c}, []int{7}},
		{"missing", map[int][]byte{0: a, 16: c}, []int{7}},
		{"extra", map[int][]byte{0: a, 4: a, 7: b, 16: c}, []int{4}},
		{"all changed, sorted", map[int][]byte{16: a, 0: b, 7: a}, []int{0, 7, 16}},
		{"nothing", nil, []int{0, 7, 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.Diff(tc.got); !slices.Equal(got, tc.want) {
				t.Errorf("Diff = %v, want %v", got, tc.want)
			}
		})
	}
}
