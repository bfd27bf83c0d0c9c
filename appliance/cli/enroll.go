package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/babgate/bab/agent/enroll"
	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

func enrollCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("enroll")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	addr := fs.String("exchange", "", "the exchange's HOST:PORT (UDP)")
	token := fs.String("token", "", "the one-time token from central ops")
	name := fs.String("name", "", "this appliance's name within its administration (default: the host name)")
	reenroll := fs.Bool("reenroll", false, "replace an existing identity (after a TPM clear or a new token)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *token == "" {
		return errors.New("both --exchange HOST:PORT and --token TOKEN are needed (central ops give you both)")
	}
	if *name == "" {
		*name = hostName()
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if old, err := st.Identity(); err == nil && !*reenroll {
		return fmt.Errorf("already enrolled as %s; to replace this identity run again with --reenroll and a token central ops made with --replace NAME", old.Appliance)
	} else if err != nil && !errors.Is(err, store.ErrNotEnrolled) {
		return err
	}
	id := &store.Identity{Exchanges: []string{*addr}}
	start := time.Now()
	if cfg.TPM.Device == config.TPMNone {
		key, err := keys.NewSoftware()
		if err != nil {
			return err
		}
		resp, err := enroll.Enroll(ctx, *addr, *token, *name, key)
		if err != nil {
			return err
		}
		id.KeyKind, id.KeyBlob = string(key.Kind), key.Blob
		fill(id, resp)
	} else {
		t, err := tpm.Open(cfg.TPM.Device)
		if err != nil {
			return err
		}
		defer t.Close()
		res, err := enroll.EnrollTPM(ctx, *addr, *token, *name, t)
		if err != nil {
			return err
		}
		id.KeyKind, id.KeyBlob = string(keys.KindTPM), res.TLSKey.Blob
		id.TPMDevice, id.AKBlob, id.AKArea = cfg.TPM.Device, res.AK.Blob, res.AK.Public
		fill(id, res.Enrolled)
	}
	if err := st.SetIdentity(id); err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	how := "a software key (no TPM)"
	if id.KeyKind == string(keys.KindTPM) {
		how = "its TPM at " + cfg.TPM.Device + ", boot state recorded"
	}
	fmt.Fprintf(stdout, "Enrolled as %s with %s in %s.\nStart the service with: systemctl enable --now bab\n", id.Appliance, how, time.Since(start).Round(time.Millisecond))
	return nil
}

func fill(id *store.Identity, resp *wire.Enrolled) {
	id.Appliance, id.Chain, id.CA = resp.Appliance, resp.Chain, resp.CA
	id.OpsKeys, id.PolicyThreshold, id.EnrolledAt = resp.OpsKeys, resp.PolicyThreshold, time.Now().UTC()
}

// hostName turns the machine's host name into a valid appliance name.
func hostName() string {
	h, _ := os.Hostname()
	h = strings.ToLower(strings.SplitN(h, ".", 2)[0])
	var b strings.Builder
	for _, r := range h {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	n := strings.Trim(b.String(), "-")
	if _, err := ident.ParseAppliance("XX/GOV/X:" + n); err != nil || n == "" || n[0] < 'a' || n[0] > 'z' {
		return "appliance"
	}
	return n
}
