package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseServiceValid(t *testing.T) {
	dgsn := Member{"MA", "GOV", "DGSN"}
	tests := []struct {
		in   string
		want Service
	}{
		{"MA/GOV/DGSN/civil-status", Service{dgsn, "civil-status"}},
		{"MA/GOV/DGSN/a", Service{dgsn, "a"}},
		{"MA/GOV/DGSN/v2", Service{dgsn, "v2"}},
		{"MA/GOV/DGSN/a--b", Service{dgsn, "a--b"}},
		{"MA/GOV/DGSN/" + strings.Repeat("x", 63), Service{dgsn, strings.Repeat("x", 63)}},
	}
	for _, tt := range tests {
		got, err := ParseService(tt.in)
		if err != nil {
			t.Errorf("ParseService(%q): got error %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseService(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseService(%q).String() = %q, want the input", tt.in, s)
		}
	}
}

func TestParseServiceInvalid(t *testing.T) {
	tests := []struct {
		in     string
		reason string
	}{
		{"", "identifier is empty"},
		{"MA/GOV/DGSN/" + strings.Repeat("x", 107), "identifier is 119 bytes long; the limit is 118"},
		{"MA/GOV/DGSN", "has 3 parts separated by '/', want 4 (country/class/code/name)"},
		{"MA/GOV/DGSN:civil-status", "':' introduces an appliance name, not a service name"},
		{"MA/GOV/DGSN/civil/status", "has 5 parts"},
		{"MA/gov/x/y", `class "gov" must be 2 to 10 uppercase letters`},
		{"M/GOV/DGSN/x", `country "M" must be two uppercase letters`},
		{"MA/GOV/dgsn/x", `code "dgsn" contains 'd'`},
		{"MA/GOV/DGSN/", "name is empty"},
		{"MA/GOV/DGSN/" + strings.Repeat("x", 64), "is 64 bytes long; the limit is 63"},
		{"MA/GOV/DGSN/Civil", `name "Civil" contains 'C'; only a-z, 0-9 and '-' are allowed`},
		{"MA/GOV/DGSN/civil_status", `contains '_'`},
		{"MA/GOV/DGSN/civil status", `contains ' '`},
		{"MA/GOV/DGSN/1civil", `name "1civil" must start with a letter`},
		{"MA/GOV/DGSN/-civil", `name "-civil" must start with a letter`},
		{"MA/GOV/DGSN/civil-", `name "civil-" must not end with '-'`},
	}
	for _, tt := range tests {
		got, err := ParseService(tt.in)
		if err == nil {
			t.Errorf("ParseService(%q) = %v, want error with reason %q", tt.in, got, tt.reason)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("ParseService(%q): error %T, want *Error", tt.in, err)
		}
		if e.Kind != KindService {
			t.Errorf("ParseService(%q): Kind = %q, want %q", tt.in, e.Kind, KindService)
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("ParseService(%q): reason %q, want it to contain %q", tt.in, e.Reason, tt.reason)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseService(%q): error does not match ErrInvalid", tt.in)
		}
	}
}

func TestMustServicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustService(bad) did not panic")
		}
	}()
	MustService("MA/GOV/DGSN")
}

func TestServiceZero(t *testing.T) {
	var s Service
	if !s.IsZero() || s.String() != "" {
		t.Errorf("zero Service: IsZero %v, String %q; want true, \"\"", s.IsZero(), s.String())
	}
	if MustService("MA/GOV/DGSN/x").IsZero() {
		t.Error("MA/GOV/DGSN/x IsZero = true, want false")
	}
}
