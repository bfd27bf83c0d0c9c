package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/yamlconf"
)

var update = flag.Bool("update", false, "rewrite the expected error files testdata/*.err")

// TestGolden loads each testdata/*.yaml, which must fail, and compares the
// error text with testdata/*.err.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, err := Load(file)
			if err == nil {
				t.Fatalf("Load(%s) succeeded, want an error", file)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Load(%s) error does not match ErrInvalid: %v", file, err)
			}
			var e *yamlconf.Error
			if !errors.As(err, &e) {
				t.Errorf("Load(%s) error holds no *yamlconf.Error: %v", file, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s) error:\n got: %s\nwant: %s", file, got, want)
			}
		})
	}
}
