package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// fleetApprove writes the entries of enrolled appliances that the policy in
// force does not list (all of them, or those named) into the policy source
// and raises its version: approving a new appliance, as X-Road's central
// administrator approves a new security server. Signing and pushing follow
// as for any policy change.
func fleetApprove(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("fleet approve")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	source := fs.String("source", "", "the policy source (YAML) to add the appliances to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *source == "" {
		return fmt.Errorf("--source FILE is required: the policy source you sign (bab-exchange policy sign)")
	}
	list, err := fleetList(ctx, *cfgPath)
	if err != nil {
		return err
	}
	ids, err := pendingOf(list, fs.Args())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "No appliance waits for approval.")
		return nil
	}
	raw, err := os.ReadFile(*source)
	if err != nil {
		return err
	}
	out, added, err := policy.AddAppliances(raw, ids)
	if err != nil {
		return fmt.Errorf("%s: %w", *source, err)
	}
	if len(added) == 0 {
		fmt.Fprintf(stdout, "%s lists them already; sign and push it if you have not.\n", *source)
		return nil
	}
	if err := writeFileAtomic(*source, out); err != nil {
		return err
	}
	for _, id := range added {
		fmt.Fprintf(stdout, "Added %s to %s.\n", id, *source)
	}
	fmt.Fprintf(stdout, "The version is raised by one. Next: bab-exchange policy check %[1]s, then policy sign --key KEY %[1]s and policy push.\n", *source)
	return nil
}

// pendingOf picks the pending appliances of the fleet: those named, or all.
func pendingOf(list []exchange.ApplianceView, names []string) ([]ident.Appliance, error) {
	var ids []ident.Appliance
	for _, a := range list {
		if a.Pending && (len(names) == 0 || slices.Contains(names, a.ID)) {
			id, err := ident.ParseAppliance(a.ID)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(ids, func(id ident.Appliance) bool { return id.String() == n }) {
			return nil, fmt.Errorf("%s does not wait for approval (see bab-exchange fleet ls: unknown, revoked or listed already)", n)
		}
	}
	return ids, nil
}

// writeFileAtomic replaces path with data, keeping its mode: a crash
// leaves the old file or the new one, never half of it.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
