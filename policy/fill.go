package policy

import (
	"github.com/babgate/bab/ident"
)

// KeyFill is what [FillKeys] found for the appliances of a bundle.
type KeyFill struct {
	// Filled were listed without a key and now carry the registered one.
	Filled []ident.Appliance
	// Differ are listed with another key than the registered one: the
	// appliance was re-enrolled or replaced since its key was written,
	// and the one that holds the registered key would be refused.
	Differ []KeyDiff
	// Unenrolled are listed without a key that the registry could give:
	// the bundle cannot be signed with them.
	Unenrolled []ident.Appliance
}

// KeyDiff is an appliance listed with another key than the registered one.
type KeyDiff struct {
	ID                 ident.Appliance
	Listed, Registered string
}

// FillKeys gives every appliance of b listed without a key its registered
// key, from registered (the exchange's registry: each enrolled and not
// revoked appliance's key, as [KeyHash] writes it), and reports what it
// filled, which listed keys differ from the registered ones (they are
// kept: a key written in the source is ops' word), and which appliances
// still lack a key.
func FillKeys(b *Bundle, registered map[ident.Appliance]string) KeyFill {
	var f KeyFill
	for i := range b.Appliances {
		a := &b.Appliances[i]
		reg, ok := registered[a.ID]
		switch {
		case a.Key == "" && ok && reg != "":
			a.Key = reg
			f.Filled = append(f.Filled, a.ID)
		case a.Key == "":
			f.Unenrolled = append(f.Unenrolled, a.ID)
		case ok && reg != "" && reg != a.Key:
			f.Differ = append(f.Differ, KeyDiff{ID: a.ID, Listed: a.Key, Registered: reg})
		}
	}
	return f
}

// MissingKeys lists the appliances of b listed without a key: a bundle
// with any cannot be signed.
func (b *Bundle) MissingKeys() []ident.Appliance {
	var out []ident.Appliance
	for _, a := range b.Appliances {
		if a.Key == "" {
			out = append(out, a.ID)
		}
	}
	return out
}
