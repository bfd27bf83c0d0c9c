// Package golden compares test output with files kept under testdata, and
// rewrites those files when the tests run with -update, so that error
// messages and command output are reviewed as text in the repository.
package golden

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with what the code produces now")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check fails t unless got equals the content of the file at path. With
// -update it writes got to path instead; with -update and got empty it
// removes the file, for golden files whose absence means "no output".
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		var err error
		if len(got) == 0 {
			err = os.Remove(path)
			if os.IsNotExist(err) {
				err = nil
			}
		} else {
			err = os.WriteFile(path, got, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) && len(got) == 0 {
		return
	}
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, got, want)
	}
}

// Failures runs load on every testdata/*.yaml: each must fail with an
// error matching kind, and the error text must be its .err twin. It is the
// golden test of a config parser.
func Failures(t *testing.T, kind error, load func(file string) error) {
	t.Helper()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			err := load(file)
			if err == nil {
				t.Fatalf("%s loaded, want an error", file)
			}
			if !errors.Is(err, kind) {
				t.Errorf("%s: error does not match %v: %v", file, kind, err)
			}
			Check(t, strings.TrimSuffix(file, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}
