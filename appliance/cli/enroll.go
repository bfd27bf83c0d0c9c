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
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/ident"
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
		return fmt.Errorf("already enrolled as %s; to replace this identity run again with --reenroll and a fresh token", old.Appliance)
	} else if err != nil && !errors.Is(err, store.ErrNotEnrolled) {
		return err
	}
	key, err := keys.NewSoftware()
	if err != nil {
		return err
	}
	resp, err := enroll.Enroll(ctx, *addr, *token, *name, key)
	if err != nil {
		return err
	}
	err = st.SetIdentity(&store.Identity{
		Appliance: resp.Appliance, KeyKind: string(key.Kind), KeyBlob: key.Blob, Chain: resp.Chain, CA: resp.CA,
		OpsKeys: resp.OpsKeys, PolicyThreshold: resp.PolicyThreshold, Exchanges: []string{*addr}, EnrolledAt: time.Now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	fmt.Fprintf(stdout, "Enrolled as %s.\nStart the service with: systemctl enable --now bab\n", resp.Appliance)
	return nil
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
