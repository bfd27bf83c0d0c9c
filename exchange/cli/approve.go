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
// force does not list (all of them, or those named), each with its
// registered key, into the policy source and raises its version:
// approving a new appliance, as X-Road's central administrator approves a
// new security server. An appliance the policy lists with another key (it
// was re-enrolled, or replaced by another machine) gets its new key the
// same way. Signing and pushing follow as for any policy change.
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
	approve, err := awaitingApproval(list, fs.Args())
	if err != nil {
		return err
	}
	if len(approve) == 0 {
		fmt.Fprintln(stdout, "No appliance waits for approval.")
		return nil
	}
	raw, err := os.ReadFile(*source)
	if err != nil {
		return err
	}
	out, added, keyed, err := policy.ApproveAppliances(raw, approve)
	if err != nil {
		return fmt.Errorf("%s: %w", *source, err)
	}
	if len(added)+len(keyed) == 0 {
		fmt.Fprintf(stdout, "%s lists them already with their keys; sign and push it if you have not.\n", *source)
		return nil
	}
	if err := writeFileAtomic(*source, out); err != nil {
		return err
	}
	key := map[ident.Appliance]string{}
	for _, a := range approve {
		key[a.ID] = a.Key
	}
	for _, id := range added {
		fmt.Fprintf(stdout, "Added %s to %s, with its key %s.\n", id, *source, key[id])
	}
	for _, id := range keyed {
		fmt.Fprintf(stdout, "Bound %s to its registered key %s in %s.\n", id, key[id], *source)
	}
	fmt.Fprintf(stdout, "The version is raised by one. Next: bab-exchange policy check %[1]s, then policy sign --key KEY %[1]s and policy push.\n", *source)
	return nil
}

// awaitingApproval picks the appliances of the fleet that wait for ops:
// pending, or listed with another key than their registered one; those
// named, or all. Each comes with its registered key.
func awaitingApproval(list []exchange.ApplianceView, names []string) ([]policy.Appliance, error) {
	var out []policy.Appliance
	for _, a := range list {
		if !(a.Pending || a.KeyMismatch) || (len(names) > 0 && !slices.Contains(names, a.ID)) {
			continue
		}
		id, err := ident.ParseAppliance(a.ID)
		if err != nil {
			return nil, err
		}
		if a.KeyHash == "" {
			return nil, fmt.Errorf("%s: the exchange has not recorded its key yet (it does when the appliance next connects); approve it then", a.ID)
		}
		out = append(out, policy.Appliance{ID: id, Key: a.KeyHash})
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(a policy.Appliance) bool { return a.ID.String() == n }) {
			return nil, fmt.Errorf("%s does not wait for approval (see bab-exchange fleet ls: unknown, revoked, or listed already with its key)", n)
		}
	}
	return out, nil
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
