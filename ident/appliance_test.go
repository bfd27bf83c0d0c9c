package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseApplianceValid(t *testing.T) {
	dgsn := Member{"MA", "GOV", "DGSN"}
	tests := []struct {
		in   string
		want Appliance
	}{
		{"MA/GOV/DGSN:rabat-01", Appliance{dgsn, "rabat-01"}},
		{"MA/MUN/RABAT:hq", Appliance{Member{"MA", "MUN", "RABAT"}, "hq"}},
		{"MA/GOV/DGSN:a", Appliance{dgsn, "a"}},
	}
	for _, tt := range tests {
		got, err := ParseAppliance(tt.in)
		if err != nil {
			t.Errorf("ParseAppliance(%q): got error %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAppliance(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseAppliance(%q).String() = %q, want the input", tt.in, s)
		}
	}
}

func TestParseApplianceInvalid(t *testing.T) {
	tests := []struct {
		in     string
		reason string
	}{
		{"", "identifier is empty"},
		{"MA/GOV/DGSN:" + strings.Repeat("x", 107), "identifier is 119 bytes long; the limit is 118"},
		{"MA/GOV/DGSN", "has no ':' between member and appliance name"},
		{"MA/GOV/DGSN/civil-status", "it looks like a service identifier"},
		{"MA/GOV/DGSN:a:b", "has 2 ':' separators, want 1"},
		{"MA/GOV:x", `member part "MA/GOV" has 2 parts separated by '/', want 3`},
		{":x", "member part is empty"},
		{"ma/GOV/DGSN:x", `country "ma" must be two uppercase letters`},
		{"MA/GOVERNMENT1/DGSN:x", `class "GOVERNMENT1" must be 2 to 10 uppercase letters`},
		{"MA/GOV/DGSN-:x", `code "DGSN-" must start and end with a letter or digit`},
		{"MA/GOV/DGSN:", "appliance name is empty"},
		{"MA/GOV/DGSN:" + strings.Repeat("x", 64), "is 64 bytes long; the limit is 63"},
		{"MA/GOV/DGSN:Rabat", `appliance name "Rabat" contains 'R'`},
		{"MA/GOV/DGSN:01", `appliance name "01" must start with a letter`},
		{"MA/GOV/DGSN:rabat-", `appliance name "rabat-" must not end with '-'`},
	}
	for _, tt := range tests {
		got, err := ParseAppliance(tt.in)
		if err == nil {
			t.Errorf("ParseAppliance(%q) = %v, want error with reason %q", tt.in, got, tt.reason)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("ParseAppliance(%q): error %T, want *Error", tt.in, err)
		}
		if e.Kind != KindAppliance {
			t.Errorf("ParseAppliance(%q): Kind = %q, want %q", tt.in, e.Kind, KindAppliance)
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("ParseAppliance(%q): reason %q, want it to contain %q", tt.in, e.Reason, tt.reason)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAppliance(%q): error does not match ErrInvalid", tt.in)
		}
	}
}

func TestMustAppliancePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustAppliance(bad) did not panic")
		}
	}()
	MustAppliance("MA/GOV/DGSN")
}

func TestApplianceZero(t *testing.T) {
	var a Appliance
	if !a.IsZero() || a.String() != "" {
		t.Errorf("zero Appliance: IsZero %v, String %q; want true, \"\"", a.IsZero(), a.String())
	}
	if MustAppliance("MA/GOV/DGSN:x").IsZero() {
		t.Error("MA/GOV/DGSN:x IsZero = true, want false")
	}
}
