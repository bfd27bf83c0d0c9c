package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/babgate/bab/exchange"
)

func tokenCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("token create")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	member := fs.String("member", "", "the administration the appliance belongs to, e.g. MA/MUN/RABAT")
	name := fs.String("name", "", "bind the token to this appliance name")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token may be used")
	ekHash := fs.String("ek-hash", "", "bind the token to the TPM with this EK hash (for TPMs without an EK certificate)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *member == "" {
		return errors.New("--member is required, e.g. --member MA/MUN/RABAT")
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(exchange.TokenRequest{Member: *member, Name: *name, TTL: ttl.String(), EKHash: *ekHash})
	var tr exchange.TokenResponse
	if err := c.do(ctx, "POST", "/v1/tokens", body, &tr); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(tr)
	}
	fmt.Fprintf(stdout, "%s\n\nOne-time token for %s, valid until %s.\nOn the appliance: bab enroll --exchange HOST:PORT --token %s\n",
		tr.Token, tr.Member, tr.Expires.Format(time.RFC3339), tr.Token)
	return nil
}
