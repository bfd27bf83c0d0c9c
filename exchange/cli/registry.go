package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// maxRegistry bounds a registry file: a fleet of a hundred thousand
// appliances lists in far less.
const maxRegistry = 64 << 20

// registry is what the exchange's registry says of the appliances' keys,
// as policy check reads it from the running exchange and policy sign from
// the file that fleet ls -o json printed.
type registry struct {
	keys    map[ident.Appliance]string // enrolled, not revoked, key recorded
	revoked map[ident.Appliance]bool
	noKey   map[ident.Appliance]bool // registered before the registry kept keys
}

// registryOf indexes the fleet as the exchange lists it.
func registryOf(list []exchange.ApplianceView) (*registry, error) {
	r := &registry{keys: map[ident.Appliance]string{}, revoked: map[ident.Appliance]bool{}, noKey: map[ident.Appliance]bool{}}
	seen := map[ident.Appliance]bool{}
	for i, a := range list {
		id, err := ident.ParseAppliance(a.ID)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("entry %d: %s is listed twice", i+1, id)
		}
		seen[id] = true
		switch {
		case a.KeyHash != "" && !policy.ValidKeyHash(a.KeyHash):
			return nil, fmt.Errorf("entry %d: %s: key_hash %q is not a key as the registry writes it", i+1, id, a.KeyHash)
		case a.Revoked:
			r.revoked[id] = true
		case a.KeyHash == "":
			r.noKey[id] = true
		default:
			r.keys[id] = a.KeyHash
		}
	}
	return r, nil
}

// parseRegistry reads the JSON array that bab-exchange fleet ls -o json
// prints (fields other than id, key_hash and revoked are not read).
func parseRegistry(raw []byte) (*registry, error) {
	var list []exchange.ApplianceView
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("not what bab-exchange fleet ls -o json prints: %w", err)
	}
	return registryOf(list)
}

// readRegistry reads a registry file given to policy sign --registry.
func readRegistry(path string) (*registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxRegistry+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxRegistry {
		return nil, fmt.Errorf("%s: larger than %d MiB; is it the output of bab-exchange fleet ls -o json?", path, maxRegistry>>20)
	}
	r, err := parseRegistry(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// fillKeys fills the keys the source left out from the registry and
// writes, one line each, what it filled, which keys differ from the
// registered ones and why that matters, and which appliances have no key
// to sign with.
func fillKeys(w io.Writer, b *policy.Bundle, r *registry, from string) policy.KeyFill {
	f := policy.FillKeys(b, r.keys)
	fmt.Fprintf(w, "\nAppliance keys, against %s:\n", from)
	line := func(id ident.Appliance, format string, args ...any) {
		fmt.Fprintf(w, "  %-28s %s\n", id, fmt.Sprintf(format, args...))
	}
	filled := map[ident.Appliance]bool{}
	for _, id := range f.Filled {
		filled[id] = true
	}
	for _, a := range b.Appliances {
		if filled[a.ID] {
			line(a.ID, "filled: %s (listed without a key; the registered one)", a.Key)
		}
	}
	for _, d := range f.Differ {
		line(d.ID, "DIFFERS: the source has %s, the registry %s.", d.Listed, d.Registered)
		line(ident.Appliance{}, "It was re-enrolled or replaced since that key was written: the machine with the registered key")
		line(ident.Appliance{}, "is refused until a policy lists its key (bab-exchange fleet approve writes it). Keep the written")
		line(ident.Appliance{}, "key only if you did not approve that machine.")
	}
	for _, id := range f.Unenrolled {
		switch {
		case r.revoked[id]:
			line(id, "REVOKED at the exchange: remove it from the source")
		case r.noKey[id]:
			line(id, "NO KEY RECORDED yet: the exchange records it when the appliance next connects; then check again")
		default:
			line(id, "NOT ENROLLED: no key to sign with; it can be signed once it enrolls")
		}
	}
	for _, a := range b.Appliances {
		if _, ok := r.keys[a.ID]; !ok && a.Key != "" && !r.revoked[a.ID] && !r.noKey[a.ID] {
			line(a.ID, "not enrolled: signed with the key the source writes")
		}
	}
	ok := 0
	for _, a := range b.Appliances {
		if k, found := r.keys[a.ID]; found && k == a.Key && !filled[a.ID] {
			ok++
		}
	}
	fmt.Fprintf(w, "  %d of %d appliance(s) listed with their registered key already.\n", ok, len(b.Appliances))
	return f
}

// unsignable says why a bundle with appliances lacking a key cannot be
// signed, or returns nil.
func unsignable(b *policy.Bundle, hint string) error {
	missing := b.MissingKeys()
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, id := range missing {
		names[i] = id.String()
	}
	slices.Sort(names)
	return fmt.Errorf("%d appliance(s) have no key, so the policy cannot be signed: %s; %s", len(missing), strings.Join(names, ", "), hint)
}
