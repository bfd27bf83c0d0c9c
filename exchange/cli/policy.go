package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/policy"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func policyKeygen(args []string, stdout io.Writer) error {
	fs := newFlags("policy keygen")
	out := fs.String("out", "", "file name prefix: writes PREFIX.key and PREFIX.pub")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out PREFIX is required")
	}
	pub, priv, err := policy.GenerateKey()
	if err != nil {
		return err
	}
	if _, err := os.Stat(*out + ".key"); err == nil {
		return fmt.Errorf("%s.key exists; refusing to overwrite an ops key", *out)
	}
	if err := os.WriteFile(*out+".key", policy.MarshalPrivateKey(priv), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pub", policy.MarshalPublicKey(pub), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote %s.key (keep it offline) and %s.pub (list it in ops_keys), key id %s\n", *out, *out, policy.KeyID(pub))
	fmt.Fprintf(stdout, "To rotate to this key, list it under next_ops_keys in a policy signed by the current keys:\n  %s\n", policy.PublicKeyText(pub))
	return nil
}

// policyFingerprint prints the fingerprint of ops public keys and a
// threshold, as enrollment tokens carry it: ops compare it, offline, with
// the last part of a token the exchange made, so that an exchange that was
// taken over cannot have new appliances pin keys of its choosing.
func policyFingerprint(args []string, stdout io.Writer) error {
	fs := newFlags("policy fingerprint")
	threshold := fs.Int("threshold", 1, "how many of the keys must sign a bundle (policy_threshold)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *threshold < 1 || *threshold > fs.NArg() {
		return errors.New("usage: bab-exchange policy fingerprint [--threshold N] KEY.pub [KEY.pub…] (N from 1 to the number of keys)")
	}
	t := policy.Trust{Threshold: *threshold}
	for _, f := range fs.Args() {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		k, err := policy.ParsePublicKey(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		t.Keys = append(t.Keys, k)
	}
	fmt.Fprintf(stdout, "%s\n\nThe fingerprint of %d ops key(s) with threshold %d: enrollment tokens for appliances that must pin these keys end with it.\n",
		t.Fingerprint(), len(t.Keys), *threshold)
	return nil
}

func policySign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy sign")
	var keyFiles multiFlag
	fs.Var(&keyFiles, "key", "ops private key file (repeat for co-signing)")
	out := fs.String("out", "", "where to write the signed bundle (default: standard output)")
	reg := fs.String("registry", "", "the exchange's registry, as bab-exchange fleet ls -o json prints it: fills the keys of appliances listed without one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || len(keyFiles) == 0 {
		return errors.New("usage: bab-exchange policy sign --key FILE [--key FILE…] [--registry FLEET.json] [--out FILE] SOURCE.yaml")
	}
	src, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := policy.ParseSource(fs.Arg(0), src, time.Now().UTC())
	if err != nil {
		return err
	}
	hint := "give --registry FLEET.json, what bab-exchange fleet ls -o json prints on the exchange, to fill them from the registry"
	if *reg != "" {
		r, err := readRegistry(*reg)
		if err != nil {
			return err
		}
		// The signed bundle may go to standard output: the account of the
		// keys goes to standard error.
		fillKeys(stderr, b, r, *reg)
		hint = "they are not enrolled (or revoked) in " + *reg + ": sign once they enroll, or remove them from the source"
	}
	if err := unsignable(b, hint); err != nil {
		return err
	}
	var keys []ed25519.PrivateKey
	for _, f := range keyFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		k, err := policy.ParsePrivateKey(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		keys = append(keys, k)
	}
	s, err := policy.Sign(b, keys...)
	if err != nil {
		return err
	}
	raw, err := s.Marshal()
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(append(raw, '\n'))
		return err
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signed policy v%d (expires %s) with %d key(s) into %s\n", b.Version, b.Expires.Format(time.RFC3339), len(keys), *out)
	return nil
}

// policyCosign adds an ops key's signature to a signed bundle, so that a
// bundle can collect the threshold of signatures from several operators,
// each with only their own key, and no one can publish alone.
func policyCosign(args []string, stdout io.Writer) error {
	fs := newFlags("policy cosign")
	keyFile := fs.String("key", "", "this operator's private key file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *keyFile == "" {
		return errors.New("usage: bab-exchange policy cosign --key FILE BUNDLE (the bundle file is updated)")
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	s, err := policy.ParseSigned(raw)
	if err != nil {
		return err
	}
	kraw, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	key, err := policy.ParsePrivateKey(kraw)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	if err := s.AddSignature(key); err != nil {
		return err
	}
	out, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(fs.Arg(0), out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added the signature of %s; the bundle now has %d signature(s).\n", policy.KeyID(key.Public().(ed25519.PublicKey)), len(s.Signatures))
	return nil
}

// policyCheck validates a policy source with line-numbered errors, fills
// and compares the appliances' keys with the exchange's registry, and shows
// what it changes against the exchange's current bundle.
func policyCheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("policy check")
	cfgPath := fs.String("config", DefaultConfig, "config file (to find the exchange for the keys and the diff)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: bab-exchange policy check SOURCE.yaml")
	}
	src, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := policy.ParseSource(filepath.Base(fs.Arg(0)), src, time.Now().UTC())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is valid: policy v%d, expires %s; %d members, %d appliances, %d services, %d rules, %d routes.\n",
		fs.Arg(0), b.Version, b.Expires.Format(time.RFC3339), len(b.Members), len(b.Appliances), len(b.Services), len(b.Rules), len(b.Routes))
	c, err := newAdmin(*cfgPath)
	var fleet []exchange.ApplianceView
	if err == nil {
		err = c.do(ctx, "GET", "/v1/appliances", nil, &fleet)
	}
	if err != nil {
		fmt.Fprintf(stdout, "\nNo comparison with the exchange's registry and current policy: %v\n", err)
		return unsignable(b, "policy check could not read the registry to fill them")
	}
	r, err := registryOf(fleet)
	if err != nil {
		return fmt.Errorf("the exchange's registry: %w", err)
	}
	fillKeys(stdout, b, r, "the exchange's registry")
	var raw []byte
	err = c.do(ctx, "GET", "/v1/policy/bundle", nil, &raw)
	var cur *policy.Bundle
	switch {
	case err != nil && strings.Contains(err.Error(), "no policy yet"):
		fmt.Fprintln(stdout, "\nThe exchange has no policy yet; everything below is new.")
	case err != nil:
		fmt.Fprintf(stdout, "\nNo comparison with the current policy: %v\n", err)
		return unsignable(b, "they are not enrolled")
	default:
		s, err := policy.ParseSigned(raw)
		if err == nil {
			cur, err = s.Bundle()
		}
		if err != nil {
			return fmt.Errorf("the exchange's current bundle: %w", err)
		}
		fmt.Fprintf(stdout, "\nChanges against the current policy v%d (with the keys filled):\n", cur.Version)
		if b.Version <= cur.Version {
			fmt.Fprintf(stdout, "  (version %d is not above %d: the exchange and the appliances will refuse it; raise version)\n", b.Version, cur.Version)
		}
	}
	d := policy.Diff(cur, b)
	if len(d) == 0 {
		fmt.Fprintln(stdout, "  none")
	}
	for _, line := range d {
		fmt.Fprintln(stdout, "  "+line)
	}
	return unsignable(b, "they are not enrolled (or revoked): sign once they enroll, or remove them from the source")
}

func policyPush(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("policy push")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	stage := fs.String("stage", "", "push to a stage first: member:MEMBER, appliance:APPLIANCE or percent:N; then policy rollout promote|abort")
	whole := fs.Bool("whole", false, "send every appliance the whole bundle rather than a delta against the bundle it holds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *whole && *stage != "" {
		return errors.New("policy push: --whole and --stage do not go together: a staged bundle goes to few appliances anyway")
	}
	if fs.NArg() != 1 {
		return errors.New("usage: bab-exchange policy push BUNDLE")
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var res exchange.PushResult
	path := "/v1/policy"
	if *stage != "" {
		path += "?stage=" + url.QueryEscape(*stage)
	}
	if *whole {
		path += "?whole=true"
	}
	if err := c.do(ctx, "POST", path, raw, &res); err != nil {
		return err
	}
	if *stage != "" {
		fmt.Fprintf(stdout, "Policy v%d staged to %s; sent to %d connected appliance(s).\nWatch it with: bab-exchange policy rollout status; then promote or abort.\n", res.Version, *stage, res.PushedTo)
		printOtherKeys(stdout, res)
		return nil
	}
	fmt.Fprintf(stdout, "Policy v%d is current; sent to %d connected appliance(s).\n", res.Version, res.PushedTo)
	printOtherKeys(stdout, res)
	return nil
}

// printOtherKeys warns of appliances a pushed policy binds to another key
// than their registered one.
func printOtherKeys(w io.Writer, res exchange.PushResult) {
	if len(res.OtherKeys) == 0 {
		return
	}
	fmt.Fprintf(w, "WARNING: v%d binds %s to another key than the registered one: they may not call or be called under it.\n"+
		"If they were re-enrolled or replaced with your approval: bab-exchange fleet approve --source SOURCE.yaml, then sign and push.\n",
		res.Version, strings.Join(res.OtherKeys, ", "))
}

// policyRollout is "policy rollout status|promote|abort BUNDLE".
func policyRollout(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: bab-exchange policy rollout status | promote | abort ROLLBACK-BUNDLE")
	}
	sub := args[0]
	fs := newFlags("policy rollout " + sub)
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var res exchange.PushResult
	switch sub {
	case "status":
		var st exchange.RolloutStatus
		if err := c.do(ctx, "GET", "/v1/rollout", nil, &st); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Staged v%d (current v%d) to %s since %s: applied by %d of %d connected appliance(s) in the stage.\n",
			st.Version, st.Current, st.Stage, st.Started.Format(time.RFC3339), st.Applied, st.Targets)
		for id, why := range st.Refusals {
			fmt.Fprintf(stdout, "  %s refused it: %s\n", id, why)
		}
		return nil
	case "promote":
		if err := c.do(ctx, "POST", "/v1/rollout/promote", nil, &res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Promoted: policy v%d is current for the whole fleet; sent to %d more appliance(s).\n", res.Version, res.PushedTo)
		return nil
	case "abort":
		if fs.NArg() != 1 {
			return errors.New("usage: bab-exchange policy rollout abort ROLLBACK-BUNDLE (the previous policy signed again with a version above the staged one)")
		}
		raw, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		if err := c.do(ctx, "POST", "/v1/rollout/abort", raw, &res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Aborted: policy v%d is current for the whole fleet; sent to %d appliance(s).\n", res.Version, res.PushedTo)
		return nil
	}
	return fmt.Errorf("policy rollout %q: use status, promote or abort", sub)
}

func policyShow(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("policy show")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := newAdmin(*cfgPath)
	if err != nil {
		return err
	}
	var ps exchange.PolicyStatus
	if err := c.do(ctx, "GET", "/v1/policy", nil, &ps); err != nil {
		return err
	}
	if ps.Version == 0 {
		fmt.Fprintln(stdout, "No policy yet: sign one and push it (bab-exchange policy push BUNDLE).")
		return nil
	}
	fmt.Fprintf(stdout, "Policy v%d, expires %s\n", ps.Version, ps.Expires.Format(time.RFC3339))
	return nil
}
