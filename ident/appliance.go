package ident

import (
	"fmt"
	"strings"
)

// Appliance identifies one Bab appliance of a member, e.g.
// MA/GOV/DGSN:rabat-01. It is comparable and so usable as a map key; the zero
// value means "no appliance".
type Appliance struct {
	Member Member // the owner
	Name   string // e.g. "rabat-01"
}

// ParseAppliance parses an appliance identifier such as "MA/GOV/DGSN:rabat-01".
func ParseAppliance(s string) (Appliance, error) {
	a, reason := parseAppliance(s)
	if reason != "" {
		return Appliance{}, newError(KindAppliance, s, reason)
	}
	return a, nil
}

func parseAppliance(s string) (Appliance, string) {
	if r := checkLength(s, maxLongLen); r != "" {
		return Appliance{}, r
	}
	switch n := strings.Count(s, ":"); {
	case n == 0:
		r := "has no ':' between member and appliance name"
		if strings.Count(s, "/") == 3 {
			// The likeliest slip: a service where an appliance belongs.
			r += "; it looks like a service identifier"
		}
		return Appliance{}, r
	case n > 1:
		return Appliance{}, fmt.Sprintf("has %d ':' separators, want 1", n)
	}
	member, name, _ := strings.Cut(s, ":")
	if member == "" {
		return Appliance{}, "member part is empty"
	}
	m, r := splitMember(member, "")
	if r != "" {
		// Name the part only on failure: parsing valid identifiers, as a
		// thousand-appliance policy does on every push, builds no strings.
		if strings.HasPrefix(r, "has ") {
			r = fmt.Sprintf("member part %s %s", quote(member), r)
		}
		return Appliance{}, r
	}
	if r := checkName("appliance name", name); r != "" {
		return Appliance{}, r
	}
	return Appliance{Member: m, Name: name}, ""
}

// MustAppliance is ParseAppliance for constants and tests: it panics on error.
func MustAppliance(s string) Appliance {
	a, err := ParseAppliance(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String returns the canonical form, or "" for the zero Appliance.
func (a Appliance) String() string {
	if a.IsZero() {
		return ""
	}
	return a.Member.String() + ":" + a.Name
}

// IsZero reports whether a is the zero Appliance.
func (a Appliance) IsZero() bool { return a == Appliance{} }

// MarshalText validates a before encoding it, so that an Appliance built by
// hand with a bad field cannot be encoded by JSON, YAML or anything else
// that calls MarshalText. String does not check.
func (a Appliance) MarshalText() ([]byte, error) {
	if a.IsZero() {
		return nil, newError(KindAppliance, "", "the zero value has no text form")
	}
	s := a.String()
	if _, reason := parseAppliance(s); reason != "" {
		return nil, newError(KindAppliance, s, reason)
	}
	return []byte(s), nil
}

// UnmarshalText parses and validates text; on error a is left unchanged.
func (a *Appliance) UnmarshalText(text []byte) error {
	v, err := ParseAppliance(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
