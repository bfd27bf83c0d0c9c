package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/attest"
)

// verdict is how a doctor check came out.
type verdict int

const (
	pass verdict = iota // nothing to do
	warn                // works, but deserves a look
	fail                // broken: bab doctor exits non-zero
)

// finding is one check of bab doctor: what was looked at, how it came
// out, and if not well, what to do.
type finding struct {
	check, result, fix string
	v                  verdict
}

// doctor checks what the appliance needs, one line a check, each problem
// with its fix: the config, the state directory, the enrollment and the
// TPM, then for each exchange the name, UDP reachability with the
// appliance's own certificate, and the clock. It exits non-zero if any
// check fails. It runs beside the service without disturbing it: the
// network checks then go through the service's control socket, since the
// service holds the key. Without the right to use that socket it says so
// and stops.
func doctor(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("doctor")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, f := checkConfig(*cfgPath)
	out := []finding{f}
	if cfg == nil {
		return report(stdout, out)
	}
	out = append(out, checkStateDir(cfg.StateDir, serviceUser)...)
	sub := examine(ctx, cfg)
	out = append(out, sub.findings()...)
	if sub.denied != nil {
		return report(stdout, out)
	}
	out = append(out, sub.checkPolicy(cfg.StateDir))
	out = append(out, checkTPM(cfg, sub.id)...)
	addrs := sub.exchanges(cfg)
	probes, why := sub.probe(ctx, cfg, addrs)
	for _, addr := range addrs {
		f, ips := checkDNS(ctx, nil, addr)
		out = append(out, f)
		r, ok := probes[addr]
		if !ok {
			reason := why
			if reason == "" {
				reason = "the running service has no tunnel to this address (restart it after changing exchanges: systemctl restart bab)"
			}
			out = append(out, finding{check: "UDP", result: addr + ": not checked: " + reason, v: warn})
			continue
		}
		udp := checkUDP(r, ips)
		if r.TCP != nil {
			if r.Outcome == tunnel.ProbeNoAnswer && (r.TCP.Outcome == tunnel.ProbeOK || r.TCP.Outcome == tunnel.ProbeNoTime) {
				udp.v = warn // the tunnel falls back to TCP: slower, not down
			}
			out = append(out, udp, checkTCP(r, *r.TCP))
		} else {
			out = append(out, udp)
		}
		out = append(out, checkClock(r))
	}
	return report(stdout, out)
}

// checkConfig loads the config file; its errors name the line of each
// mistake.
func checkConfig(path string) (*config.Config, finding) {
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrPermission) && path == DefaultConfig:
		// A member of bab-admin: the running service can still answer.
		return config.Default(), finding{check: "config", result: err.Error() + "; the checks below assume the packaged defaults", v: warn,
			fix: "the config is for root and group bab: run sudo bab doctor to check it"}
	case errors.Is(err, config.ErrNotFound):
		return nil, finding{check: "config", result: err.Error(), v: fail,
			fix: "the package installs " + DefaultConfig + "; give another file with --config FILE"}
	case err != nil:
		return nil, finding{check: "config", result: err.Error(), v: fail,
			fix: "correct the file at the line shown; packaging/bab.yaml documents every key"}
	}
	return cfg, finding{check: "config", result: path + " is valid"}
}

func checkTPM(cfg *config.Config, id *store.Identity) []finding {
	if cfg.TPM.Device == config.TPMNone {
		return []finding{{check: "TPM", result: "not used (tpm.device: none): software key, no attestation"}}
	}
	t, err := tpm.Open(cfg.TPM.Device)
	if err != nil {
		return []finding{{check: "TPM", result: err.Error(), fix: fixFor(err), v: fail}}
	}
	defer t.Close()
	ek, err := t.EndorsementKey()
	if err != nil {
		return []finding{{check: "TPM", result: err.Error(), fix: fixFor(err), v: fail}}
	}
	out := []finding{{check: "TPM", result: fmt.Sprintf("%s answers; EK hash %s", cfg.TPM.Device, attest.EKHash(ek.Public))}}
	if ek.Cert == nil {
		out = append(out, finding{check: "EK certificate", result: "none (common with firmware TPMs)",
			fix: "central ops register the EK hash above with the enrollment token (token create --ek-hash)"})
	}
	if id != nil && keys.Kind(id.KeyKind) == keys.KindTPM {
		if _, err := t.Signer(id.KeyBlob); err != nil {
			out = append(out, finding{check: "TPM key", result: err.Error(), fix: fixFor(err), v: fail})
		} else {
			out = append(out, finding{check: "TPM key", result: "the appliance's key loads in this TPM"})
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
		return "the TPM was cleared or this is another machine: ask central ops for a token made with --replace NAME and run bab enroll --reenroll with it"
	}
	return "see firmware-notes/checking-from-a-shell.md"
}

// report prints the findings, one line each with its fix below, and fails
// when one of them failed.
func report(w io.Writer, fs []finding) error {
	bad := 0
	for _, f := range fs {
		mark := "ok  "
		switch f.v {
		case warn:
			mark = "warn"
		case fail:
			mark = "FAIL"
			bad++
		}
		lines := strings.Split(strings.TrimRight(f.result, "\n"), "\n")
		fmt.Fprintf(w, "%s %-16s %s\n", mark, f.check, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "     %-16s %s\n", "", l)
		}
		if f.fix != "" {
			fmt.Fprintf(w, "     %-16s fix: %s\n", "", f.fix)
		}
	}
	if bad > 0 {
		return ExitError{Code: 1}
	}
	return nil
}
