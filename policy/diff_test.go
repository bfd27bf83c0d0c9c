package policy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/golden"
)

func TestDiffGolden(t *testing.T) {
	old, err := ParseSource("lab.yaml", mustRead(t, "testdata/lab.yaml"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	nu, err := ParseSource("diff_new.yaml", mustRead(t, "testdata/diff_new.yaml"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Diff(old, nu), "\n") + "\n"
	golden.Check(t, filepath.Join("testdata", "diff.golden"), []byte(got))

	if d := Diff(old, old); len(d) != 0 {
		t.Fatalf("a bundle differs from itself: %v", d)
	}
	// Against nothing, everything is added.
	for _, line := range Diff(nil, old)[2:] { // version and expiry change first
		if !strings.HasPrefix(line, "+ ") {
			t.Fatalf("diff against no bundle has %q", line)
		}
	}
}
