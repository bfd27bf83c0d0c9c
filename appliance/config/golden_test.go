package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/golden"
	"github.com/babgate/bab/internal/yamlconf"
)

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
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}
