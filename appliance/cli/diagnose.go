package cli

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
)

// diagnose says why the appliance is not running, when its control socket
// does not answer: not enrolled, the TPM missing or locked out, or the TPM no
// longer holding the appliance's key. It looks at the state file and the
// TPM directly, so it works while the service is failing to start.
func diagnose(cfg *config.Config) error {
	id, err := readIdentity(cfg.StateDir)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the service holds its state file but its control socket %s does not answer; see its log (journalctl -u bab)", cfg.Admin.Socket)
	}
	if err != nil {
		return err
	}
	_, closeKey, err := openKey(cfg, id)
	if err != nil {
		return err
	}
	closeKey()
	if keys.Kind(id.KeyKind) != keys.KindTPM {
		return fmt.Errorf("the appliance %s is enrolled but not running (systemctl start bab; its log says why if it stops)", id.Appliance)
	}
	return fmt.Errorf("the appliance %s is enrolled and its TPM key is usable, but the service is not running (systemctl start bab)", id.Appliance)
}

// readIdentity reads the stored identity, holding the state file only for
// that. It creates nothing: a state file that is not there means not
// enrolled (opening it would create it, owned by whoever runs the command).
func readIdentity(dir string) (*store.Identity, error) {
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNotEnrolled
	}
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Identity()
}

// openKey opens the appliance's tunnel key as the service does: the
// software key kept in the identity, or the key in the TPM, which must
// still hold it. The returned func releases the TPM.
func openKey(cfg *config.Config, id *store.Identity) (crypto.Signer, func(), error) {
	if keys.Kind(id.KeyKind) != keys.KindTPM {
		k, err := keys.Open(keys.Kind(id.KeyKind), id.KeyBlob)
		if err != nil {
			return nil, nil, fmt.Errorf("the appliance %s cannot open its key: %w", id.Appliance, err)
		}
		return k.Signer, func() {}, nil
	}
	dev := cfg.TPM.Device
	if dev == config.TPMNone {
		dev = id.TPMDevice
	}
	t, err := tpm.Open(dev)
	if err != nil {
		return nil, nil, fmt.Errorf("the appliance %s cannot use its TPM: %w", id.Appliance, err)
	}
	s, err := t.Signer(id.KeyBlob)
	if err != nil {
		t.Close()
		if errors.Is(err, tpm.ErrKeyUnusable) {
			return nil, nil, fmt.Errorf("the TPM no longer holds the key of %s: it was cleared (often by a firmware update) or this disk is in another machine. "+
				"Ask central ops for a token made with --replace %s (the name stays enrolled until then) and run: bab enroll --reenroll --exchange HOST:PORT --token TOKEN --name %s: %w",
				id.Appliance, nameOf(id.Appliance), nameOf(id.Appliance), err)
		}
		return nil, nil, fmt.Errorf("the appliance %s cannot use its key in the TPM: %w", id.Appliance, err)
	}
	return s, func() { t.Close() }, nil
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
