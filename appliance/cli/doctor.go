package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/attest"
)

// finding is one check of bab doctor: what was looked at, whether it is
// fine, and if not, what to do.
type finding struct {
	check, result, fix string
	ok                 bool
}

// doctor checks what the appliance needs, one line a check, each problem
// with its fix. It exits non-zero if any check fails. (Network checks
// towards the exchange come with the packaging work.)
func doctor(args []string, stdout io.Writer) error {
	fs := newFlags("doctor")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var fs2 []finding
	add := func(f finding) { fs2 = append(fs2, f) }
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		add(finding{check: "config", result: err.Error(), fix: "correct the file at the line shown; packaging/bab.yaml documents every key"})
		return report(stdout, fs2)
	}
	add(finding{check: "config", result: *cfgPath + " is valid", ok: true})
	add(checkStateDir(cfg.StateDir))
	var id *store.Identity
	st, err := store.Open(cfg.StateDir)
	switch {
	case errors.Is(err, store.ErrLocked):
		add(finding{check: "state", result: "in use by the running service", ok: true})
	case err != nil:
		add(finding{check: "state", result: err.Error(), fix: "check the state directory's owner and mode (user bab, 0700)"})
	default:
		id, err = st.Identity()
		st.Close()
		if err != nil {
			add(finding{check: "enrollment", result: "not enrolled", fix: "get a token from central ops and run: bab enroll --exchange HOST:PORT --token TOKEN"})
		} else {
			add(finding{check: "enrollment", result: "enrolled as " + id.Appliance + " with a " + id.KeyKind + " key", ok: true})
		}
	}
	for _, f := range checkTPM(cfg, id) {
		add(f)
	}
	return report(stdout, fs2)
}

func checkStateDir(dir string) finding {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return finding{check: "state directory", result: dir + " does not exist yet", ok: true}
	case err != nil:
		return finding{check: "state directory", result: err.Error(), fix: "the service user bab must be able to read " + dir}
	case fi.Mode().Perm()&0o077 != 0:
		return finding{check: "state directory", result: fmt.Sprintf("%s is mode %o: others can read the appliance's identity", dir, fi.Mode().Perm()), fix: "chmod 700 " + dir}
	}
	return finding{check: "state directory", result: dir + " is private to its owner", ok: true}
}

func checkTPM(cfg *config.Config, id *store.Identity) []finding {
	if cfg.TPM.Device == config.TPMNone {
		return []finding{{check: "TPM", result: "not used (tpm.device: none): software key, no attestation", ok: true}}
	}
	t, err := tpm.Open(cfg.TPM.Device)
	if err != nil {
		return []finding{{check: "TPM", result: err.Error(), fix: fixFor(err)}}
	}
	defer t.Close()
	ek, err := t.EndorsementKey()
	if err != nil {
		return []finding{{check: "TPM", result: err.Error(), fix: fixFor(err)}}
	}
	out := []finding{{check: "TPM", result: fmt.Sprintf("%s answers; EK hash %s", cfg.TPM.Device, attest.EKHash(ek.Public)), ok: true}}
	if ek.Cert == nil {
		out = append(out, finding{check: "EK certificate", result: "none (common with firmware TPMs)", ok: true,
			fix: "central ops register the EK hash above with the enrollment token (token create --ek-hash)"})
	}
	if id != nil && keys.Kind(id.KeyKind) == keys.KindTPM {
		if _, err := t.Signer(id.KeyBlob); err != nil {
			out = append(out, finding{check: "TPM key", result: err.Error(), fix: fixFor(err)})
		} else {
			out = append(out, finding{check: "TPM key", result: "the appliance's key loads in this TPM", ok: true})
		}
	}
	return out
}

func fixFor(err error) string {
	switch {
	case errors.Is(err, tpm.ErrNoDevice):
		return "enable the TPM in the firmware (firmware-notes/enabling-the-tpm.md), or set tpm.device to where it is"
	case errors.Is(err, tpm.ErrPermission):
		return "add the service user to group tss: usermod -aG tss bab"
	case errors.Is(err, tpm.ErrLockout):
		return "the TPM is locked out after failed authorisations: wait, or reset the lockout in the firmware"
	case errors.Is(err, tpm.ErrKeyUnusable):
		return "the TPM was cleared or this is another machine: get a fresh token and run bab enroll --reenroll"
	}
	return "see firmware-notes/checking-from-a-shell.md"
}

func report(w io.Writer, fs []finding) error {
	bad := 0
	for _, f := range fs {
		mark := "ok  "
		if !f.ok {
			mark = "FAIL"
			bad++
		}
		fmt.Fprintf(w, "%s %-16s %s\n", mark, f.check, f.result)
		if f.fix != "" {
			fmt.Fprintf(w, "     %-16s fix: %s\n", "", f.fix)
		}
	}
	if bad > 0 {
		return ExitError{Code: 1}
	}
	return nil
}
