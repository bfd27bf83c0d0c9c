package loudskip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A skip lands in the summary file with the test's name and the first line
// of its reason.
func TestSkipIsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skips")
	t.Setenv(EnvLog, path)
	t.Run("inner", func(t *testing.T) { Skip(t, "no %s here\nmore detail", "TPM") })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "TestSkipIsLogged/inner: no TPM here …\n" || strings.Count(got, "\n") != 1 {
		t.Errorf("summary line %q", got)
	}
}
