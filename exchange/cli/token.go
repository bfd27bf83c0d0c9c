package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/wire"
)

func tokenCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("token create")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	member := fs.String("member", "", "the administration the appliance belongs to, e.g. MA/MUN/RABAT")
	name := fs.String("name", "", "bind the token to this appliance name")
	replace := fs.String("replace", "", "enroll a new appliance in place of the one enrolled as this name: its key and certificates are refused for good, its baseline and quarantine carry over")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token may be used")
	ekHash := fs.String("ek-hash", "", "bind the token to the TPM with this EK hash (for TPMs without an EK certificate)")
	var golden multiFlag
	fs.Var(&golden, "pcr", "require a golden boot state at enrollment: PCR=SHA256HEX (repeat per PCR)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *member == "" {
		return errors.New("--member is required, e.g. --member MA/MUN/RABAT")
	}
	if *replace != "" {
		if *name != "" && *name != *replace {
			return fmt.Errorf("--name %s and --replace %s: give the name once, with --replace", *name, *replace)
		}
		*name = *replace
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	g := map[int]string{}
	for _, kv := range golden {
		k, v, ok := strings.Cut(kv, "=")
		pcr, err := strconv.Atoi(k)
		if !ok || err != nil {
			return fmt.Errorf("--pcr %q: write PCR=SHA256HEX, e.g. --pcr 0=3d45…", kv)
		}
		g[pcr] = v
	}
	body, _ := json.Marshal(exchange.TokenRequest{Member: *member, Name: *name, TTL: ttl.String(), EKHash: *ekHash, Golden: g, Replace: *replace != ""})
	var tr exchange.TokenResponse
	if err := c.do(ctx, "POST", "/v1/tokens", body, &tr); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(tr)
	}
	fmt.Fprintf(stdout, "%s\n\nOne-time token for %s, valid until %s.\nOn the appliance: bab enroll --exchange HOST:PORT --token %s\n",
		tr.Token, tr.Member, tr.Expires.Format(time.RFC3339), tr.Token)
	if t, err := wire.ParseToken(tr.Token); err == nil {
		fmt.Fprintf(stdout, "Its last part, %s, is the fingerprint of the ops keys the appliance will pin; "+
			"check it on the signing machine with bab-exchange policy fingerprint --threshold N KEY.pub…\n", t.Ops)
	}
	return nil
}
