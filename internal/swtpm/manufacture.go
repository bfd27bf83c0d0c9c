package swtpm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// setupTimeout bounds one manufacturing run; it takes about a second.
const setupTimeout = time.Minute

// manufacture creates a TPM state in dir/state with RSA and ECC EKs and
// their certificates, signed by a local CA whose files live in dir/ca. The
// CA is created on first use, so every Sim has its own manufacturer.
func manufacture(dir string) error {
	state := filepath.Join(dir, "state")
	ca := filepath.Join(dir, "ca")
	for _, d := range []string{state, ca} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("manufacture: %w", err)
		}
	}
	localca, err := exec.LookPath("swtpm_localca")
	if err != nil {
		return fmt.Errorf("manufacture: %w", ErrNotInstalled)
	}
	files := map[string]string{
		"setup.conf": fmt.Sprintf("create_certs_tool = %s\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = %s\nactive_pcr_banks = sha256\n",
			localca, filepath.Join(dir, "localca.conf"), filepath.Join(dir, "localca.options")),
		"localca.conf": fmt.Sprintf("statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n",
			ca, filepath.Join(ca, "signkey.pem"), filepath.Join(ca, "issuercert.pem"), filepath.Join(ca, "certserial")),
		"localca.options": "--platform-manufacturer Bab\n--platform-version 1.0\n--platform-model lab\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return fmt.Errorf("manufacture: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "swtpm_setup", "--tpm2",
		"--tpmstate", state,
		"--create-ek-cert", "--create-platform-cert",
		"--pcr-banks", "sha256",
		"--config", filepath.Join(dir, "setup.conf"),
		"--overwrite")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("manufacture: swtpm_setup: %w\n%s", err, out)
	}
	return nil
}
