package ident

import (
	"fmt"
	"strings"
)

// Service identifies a service provided by a member, e.g.
// MA/GOV/DGSN/civil-status. It is comparable and so usable as a map key; the
// zero value means "no service".
type Service struct {
	Member Member // the provider
	Name   string // e.g. "civil-status"
}

// ParseService parses a service identifier such as "MA/GOV/DGSN/civil-status".
func ParseService(s string) (Service, error) {
	svc, reason := parseService(s)
	if reason != "" {
		return Service{}, newError(KindService, s, reason)
	}
	return svc, nil
}

func parseService(s string) (Service, string) {
	if r := checkLength(s, maxLongLen); r != "" {
		return Service{}, r
	}
	if n := strings.Count(s, "/") + 1; n != 4 {
		r := fmt.Sprintf("has %d parts separated by '/', want 4 (country/class/code/name)", n)
		if n == 3 && strings.Contains(s, ":") {
			// The likeliest slip: an appliance where a service belongs.
			r += "; ':' introduces an appliance name, not a service name"
		}
		return Service{}, r
	}
	i := strings.LastIndexByte(s, '/')
	m, r := splitMember(s[:i], "")
	if r != "" {
		return Service{}, r
	}
	name := s[i+1:]
	if r := checkName("name", name); r != "" {
		return Service{}, r
	}
	return Service{Member: m, Name: name}, ""
}

// MustService is ParseService for constants and tests: it panics on error.
func MustService(s string) Service {
	svc, err := ParseService(s)
	if err != nil {
		panic(err)
	}
	return svc
}

// String returns the canonical form, or "" for the zero Service.
func (s Service) String() string {
	if s.IsZero() {
		return ""
	}
	return s.Member.String() + "/" + s.Name
}

// IsZero reports whether s is the zero Service.
func (s Service) IsZero() bool { return s == Service{} }

// MarshalText validates s before encoding it, so that a Service built by
// hand with a bad field cannot be encoded by JSON, YAML or anything else
// that calls MarshalText. String does not check.
func (s Service) MarshalText() ([]byte, error) {
	if s.IsZero() {
		return nil, newError(KindService, "", "the zero value has no text form")
	}
	str := s.String()
	if _, reason := parseService(str); reason != "" {
		return nil, newError(KindService, str, reason)
	}
	return []byte(str), nil
}

// UnmarshalText parses and validates text; on error s is left unchanged.
func (s *Service) UnmarshalText(text []byte) error {
	v, err := ParseService(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
