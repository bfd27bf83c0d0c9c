package cli

import (
	"errors"
	"fmt"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
)

// diagnose says why the appliance is not running, when its admin API does
// not answer: not enrolled, the TPM missing or locked out, or the TPM no
// longer holding the appliance's key. It looks at the state file and the
// TPM directly, so it works while the service is failing to start.
func diagnose(cfg *config.Config) error {
	st, err := store.Open(cfg.StateDir)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the service holds its state file but its admin address %s does not answer; see its log (journalctl -u bab)", cfg.Admin.Listen)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.Identity()
	if err != nil {
		return err
	}
	if keys.Kind(id.KeyKind) != keys.KindTPM {
		return fmt.Errorf("the appliance %s is enrolled but not running (systemctl start bab; its log says why if it stops)", id.Appliance)
	}
	dev := cfg.TPM.Device
	if dev == config.TPMNone {
		dev = id.TPMDevice
	}
	t, err := tpm.Open(dev)
	if err != nil {
		return fmt.Errorf("the appliance %s cannot use its TPM: %w", id.Appliance, err)
	}
	defer t.Close()
	if _, err := t.Signer(id.KeyBlob); err != nil {
		if errors.Is(err, tpm.ErrKeyUnusable) {
			return fmt.Errorf("the TPM no longer holds the key of %s: it was cleared (often by a firmware update) or this disk is in another machine. "+
				"Get a fresh token from central ops and run: bab enroll --reenroll --exchange HOST:PORT --token TOKEN --name %s", id.Appliance, nameOf(id.Appliance))
		}
		return fmt.Errorf("the appliance %s cannot use its key in the TPM: %w", id.Appliance, err)
	}
	return fmt.Errorf("the appliance %s is enrolled and its TPM key is usable, but the service is not running (systemctl start bab)", id.Appliance)
}

// nameOf is the appliance name after the member: "hq" of "MA/MUN/RABAT:hq".
func nameOf(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[i+1:]
		}
	}
	return id
}
