package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMemberValid(t *testing.T) {
	tests := []struct {
		in   string
		want Member
	}{
		{"MA/GOV/DGSN", Member{"MA", "GOV", "DGSN"}},
		{"MA/MUN/RABAT", Member{"MA", "MUN", "RABAT"}},
		{"FR/NGO/A", Member{"FR", "NGO", "A"}},
		{"TN/COM/0", Member{"TN", "COM", "0"}},
		{"MA/ABCDEFGHIJ/X-1-Y", Member{"MA", "ABCDEFGHIJ", "X-1-Y"}},
		{"MA/GO/" + strings.Repeat("A", 40), Member{"MA", "GO", strings.Repeat("A", 40)}},
	}
	for _, tt := range tests {
		got, err := ParseMember(tt.in)
		if err != nil {
			t.Errorf("ParseMember(%q): got error %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMember(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseMember(%q).String() = %q, want the input", tt.in, s)
		}
	}
}

func TestParseMemberInvalid(t *testing.T) {
	tests := []struct {
		in     string
		reason string
	}{
		{"", "identifier is empty"},
		{"MA/GOV/" + strings.Repeat("A", 50), "identifier is 57 bytes long; the limit is 54"},
		{"MA/GOV", "has 2 parts separated by '/', want 3"},
		{"MA/GOV/DGSN/x", "has 4 parts separated by '/', want 3"},
		{"/MA/GOV/DGSN", "has 4 parts"},
		{"ma/GOV/DGSN", `country "ma" must be two uppercase letters`},
		{"MAR/GOV/DGSN", `country "MAR" must be two uppercase letters`},
		{"/GOV/DGSN", "country is empty"},
		{"MA//DGSN", "class is empty"},
		{"MA/gov/DGSN", `class "gov" must be 2 to 10 uppercase letters`},
		{"MA/G/DGSN", `class "G" must be 2 to 10 uppercase letters`},
		{"MA/ABCDEFGHIJK/DGSN", `class "ABCDEFGHIJK" must be 2 to 10`},
		{"MA/G0V/DGSN", `class "G0V"`},
		{"MA/GOV/", "code is empty"},
		{"MA/GO/" + strings.Repeat("A", 41), "is 41 bytes long; the limit is 40"},
		{"MA/GOV/dgsn", `code "dgsn" contains 'd'; only A-Z, 0-9 and '-' are allowed`},
		{"MA/GOV/DG SN", `contains ' '`},
		{"MA/GOV/DG\x00", `contains '\x00'`},
		{"MA/GOV/DGÉ", `contains 'É'`},
		{"MA/GOV/DG\xff", "contains the invalid UTF-8 byte 0xff"},
		{"MA/GOV/DG_SN", `contains '_'`},
		{"MA/GOV/-DGSN", `code "-DGSN" must start and end with a letter or digit`},
		{"MA/GOV/DGSN-", `code "DGSN-" must start and end with a letter or digit`},
		{"MA/GOV/-", "must start and end with a letter or digit"},
	}
	for _, tt := range tests {
		got, err := ParseMember(tt.in)
		if err == nil {
			t.Errorf("ParseMember(%q) = %v, want error with reason %q", tt.in, got, tt.reason)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("ParseMember(%q): error %T, want *Error", tt.in, err)
		}
		if e.Kind != KindMember {
			t.Errorf("ParseMember(%q): Kind = %q, want %q", tt.in, e.Kind, KindMember)
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("ParseMember(%q): reason %q, want it to contain %q", tt.in, e.Reason, tt.reason)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMember(%q): error does not match ErrInvalid", tt.in)
		}
	}
}

func TestMustMemberPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustMember(bad) did not panic")
		}
	}()
	MustMember("ma/gov/x")
}

func TestMemberZero(t *testing.T) {
	var m Member
	if !m.IsZero() || m.String() != "" {
		t.Errorf("zero Member: IsZero %v, String %q; want true, \"\"", m.IsZero(), m.String())
	}
	if MustMember("MA/GOV/DGSN").IsZero() {
		t.Error("MA/GOV/DGSN IsZero = true, want false")
	}
}
