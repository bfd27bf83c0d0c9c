package lab

import (
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/babgate/bab/internal/swtpm"
)

// SwtpmInstalled reports whether the software TPM is there for the lab's
// appliances to run on.
func SwtpmInstalled() bool {
	for _, c := range []string{"swtpm", "swtpm_setup"} {
		if _, err := exec.LookPath(c); err != nil {
			return false
		}
	}
	return true
}

// TPMDevice is the tpm.device value for an appliance on sim, or "none".
func TPMDevice(sim *swtpm.Sim) string {
	if sim == nil {
		return "none"
	}
	return sim.Spec
}

// startTPMs starts one software TPM per appliance, each with its own
// manufacturer CA, as two real TPMs from one maker's different lines.
func (l *Lab) startTPMs() error {
	l.sims = map[string]*swtpm.Sim{}
	for _, id := range []string{CommuneHQ.Name, RegistryDC.Name} {
		s, err := swtpm.Start(filepath.Join(l.Dir, id, "tpm"))
		if err != nil {
			return err
		}
		l.sims[id] = s
	}
	return nil
}

// attestationConfig is the exchange's attestation section: the TPMs'
// manufacturer CAs, or software keys allowed when the lab has no TPMs.
func (l *Lab) attestationConfig(dir string, every time.Duration) (string, error) {
	interval := ""
	if every > 0 {
		interval = "\n  interval: " + every.String()
	}
	if !l.tpms {
		return "attestation:\n  allow_software_keys: true", nil
	}
	var files []string
	for name, s := range l.sims {
		f := filepath.Join(dir, "tpm-vendor-"+name+".pem")
		if err := writeCAs(f, s); err != nil {
			return "", fmt.Errorf("lab: TPM vendor CA: %w", err)
		}
		files = append(files, f)
	}
	return "attestation:\n  vendor_cas: [" + strings.Join(files, ", ") + "]" + interval, nil
}

func writeCAs(path string, s *swtpm.Sim) error {
	root, err := s.ManufacturerRoot()
	if err != nil {
		return err
	}
	issuer, err := s.ManufacturerCA()
	if err != nil {
		return err
	}
	var b []byte
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})...)
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Raw})...)
	return os.WriteFile(path, b, 0o644)
}
