package config

import (
	"errors"
	"testing"

	"github.com/babgate/bab/internal/golden"
	"github.com/babgate/bab/internal/yamlconf"
)

// TestGolden loads each testdata/*.yaml, which must fail with line-numbered
// problems, and compares the error text with testdata/*.err.
func TestGolden(t *testing.T) {
	golden.Failures(t, ErrInvalid, func(file string) error {
		_, err := Load(file)
		var e *yamlconf.Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%s: the error holds no *yamlconf.Error: %v", file, err)
		}
		return err
	})
}
