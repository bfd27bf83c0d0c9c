package swtpm

import (
	"errors"
	"testing"
)

// StartT starts a Sim in t.TempDir() and stops it when the test ends. A
// missing swtpm fails the test with instructions rather than skipping it.
func StartT(t testing.TB) *Sim {
	t.Helper()
	s, err := Start(t.TempDir())
	if errors.Is(err, ErrNotInstalled) {
		t.Fatalf("%v", err)
	}
	if err != nil {
		t.Fatalf("start software TPM: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop software TPM: %v", err)
		}
	})
	return s
}
