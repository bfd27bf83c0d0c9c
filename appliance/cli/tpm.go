package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/attest"
)

// tpmCmd shows the TPM the appliance is configured with: whether it can be
// used, its EK hash (to read to central ops for a TPM without an EK
// certificate) and who certified its endorsement key.
func tpmCmd(args []string, stdout io.Writer) error {
	fs := newFlags("tpm")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.TPM.Device == config.TPMNone {
		return errors.New("tpm.device is none in the config: this appliance uses a software key")
	}
	t, err := tpm.Open(cfg.TPM.Device)
	if err != nil {
		return err
	}
	defer t.Close()
	ek, err := t.EndorsementKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "TPM         %s\nEK          %s key\nEK hash     %s\n", cfg.TPM.Device, ek.Kind, attest.EKHash(ek.Public))
	if ek.Cert != nil {
		fmt.Fprintf(stdout, "EK cert     issued by %s, valid until %s\n", ek.Cert.Issuer, ek.Cert.NotAfter.Format("2006-01-02"))
	} else {
		fmt.Fprintf(stdout, "EK cert     none: central ops must register the EK hash above with your enrollment token\n")
	}
	return nil
}
