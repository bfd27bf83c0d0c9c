package tpm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/internal/swtpm"
)

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular := filepath.Join(dir, "not-a-device")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec string
		want error
	}{
		{filepath.Join(dir, "tpmrm0"), tpm.ErrNoDevice},
		{regular, tpm.ErrNoDevice},
		{"swtpm:" + filepath.Join(dir, "tpm.sock"), tpm.ErrNoDevice},
		{"swtpm:", tpm.ErrBadSpec},
		{"mssim:127.0.0.1:2321", tpm.ErrBadSpec},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			tp, err := tpm.Open(tc.spec)
			if err == nil {
				tp.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v, want %v", tc.spec, err, tc.want)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
}

func TestOpenMissingDeviceSaysFirmware(t *testing.T) {
	t.Parallel()
	_, err := tpm.Open(filepath.Join(t.TempDir(), "tpmrm0"))
	if !errors.Is(err, tpm.ErrNoDevice) {
		t.Fatalf("Open(missing) = %v, want ErrNoDevice", err)
	}
	if !strings.Contains(err.Error(), "firmware") {
		t.Errorf("error %q does not point at the firmware setup", err)
	}
}

func TestOpenStoppedSwtpm(t *testing.T) {
	t.Parallel()
	sim := swtpm.StartT(t)
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.Open(sim.Spec); !errors.Is(err, tpm.ErrNoDevice) {
		t.Fatalf("Open(stopped swtpm) = %v, want ErrNoDevice", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	t.Parallel()
	sim := swtpm.StartT(t)
	tp, err := tpm.Open(sim.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tp.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := tp.NewAK(); !errors.Is(err, tpm.ErrClosed) {
		t.Errorf("NewAK after Close = %v, want ErrClosed", err)
	}
}
