package ident

import (
	"fmt"
	"strings"
)

// Member identifies an administration taking part in the federation, e.g.
// MA/GOV/DGSN. It is comparable and so usable as a map key; the zero value
// means "no member".
type Member struct {
	Country string // ISO 3166-1 alpha-2, e.g. "MA"
	Class   string // kind of administration, e.g. "GOV", "MUN"
	Code    string // the administration within its class, e.g. "DGSN"
}

// ParseMember parses a member identifier such as "MA/GOV/DGSN".
func ParseMember(s string) (Member, error) {
	m, reason := parseMember(s)
	if reason != "" {
		return Member{}, newError(KindMember, s, reason)
	}
	return m, nil
}

func parseMember(s string) (Member, string) {
	if r := checkLength(s, maxMemberLen); r != "" {
		return Member{}, r
	}
	return splitMember(s, "")
}

// splitMember parses the member part of a longer identifier; within names
// that part ("member part") when it is not the whole input, so the reason
// says which part is wrong.
func splitMember(s, within string) (Member, string) {
	if n := strings.Count(s, "/") + 1; n != 3 {
		return Member{}, fmt.Sprintf("%shas %d parts separated by '/', want 3 (country/class/code)", within, n)
	}
	country, rest, _ := strings.Cut(s, "/")
	class, code, _ := strings.Cut(rest, "/")
	if r := checkMemberParts(country, class, code); r != "" {
		return Member{}, r
	}
	return Member{Country: country, Class: class, Code: code}, ""
}

// MustMember is ParseMember for constants and tests: it panics on error.
func MustMember(s string) Member {
	m, err := ParseMember(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String returns the canonical form, or "" for the zero Member.
func (m Member) String() string {
	if m.IsZero() {
		return ""
	}
	return m.Country + "/" + m.Class + "/" + m.Code
}

// IsZero reports whether m is the zero Member.
func (m Member) IsZero() bool { return m == Member{} }

// MarshalText validates m before encoding it, so that a Member built by
// hand with a bad field cannot be encoded by JSON, YAML or anything else
// that calls MarshalText. String does not check.
func (m Member) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return nil, newError(KindMember, "", "the zero value has no text form")
	}
	s := m.String()
	if _, reason := parseMember(s); reason != "" {
		return nil, newError(KindMember, s, reason)
	}
	return []byte(s), nil
}

// UnmarshalText parses and validates text; on error m is left unchanged.
func (m *Member) UnmarshalText(text []byte) error {
	v, err := ParseMember(string(text))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
