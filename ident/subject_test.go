package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSubjectValid(t *testing.T) {
	for _, in := range []string{"MA-CIN:XY987654", "FR-NIR:1850578006048", "X:1", "MA-CIN:A.B-C9", "A" + strings.Repeat("B", 31) + ":" + strings.Repeat("9", 64)} {
		s, err := ParseSubject(in)
		if err != nil {
			t.Errorf("ParseSubject(%q): %v", in, err)
			continue
		}
		if s.String() != in {
			t.Errorf("ParseSubject(%q).String() = %q", in, s.String())
		}
	}
}

// TestParseSubjectInvalid: each defect is refused with a reason, and no
// error repeats the identifier, which is personal data (logs and refusals
// carry the error).
func TestParseSubjectInvalid(t *testing.T) {
	tests := []struct {
		in, reason string
	}{
		{"", "subject is empty"},
		{"XY987654", "has no ':'"},
		{":XY987654", "scheme must be"},
		{"ma-cin:XY987654", "scheme must be"},
		{"MA-:XY987654", "scheme must be"},
		{"1MA:XY987654", "scheme must be"},
		{strings.Repeat("A", 33) + ":XY987654", "scheme must be"},
		{"MA-CIN:", "identifier is empty"},
		{"MA-CIN:ab123456", "lower-case letter at position 1"},
		{"MA-CIN:XY 987654", "other than A-Z, 0-9, '-' and '.' at position 3"},
		{"MA-CIN:XY987654\n", "at position 9"},
		{"MA-CIN:XY:987654", "at position 3"},
		{"MA-CIN:-XY987654", "start and end with a letter or digit"},
		{"MA-CIN:XY987654.", "start and end with a letter or digit"},
		{"MA-CIN:" + strings.Repeat("9", 65), "identifier is 65 bytes long"},
		{"MA-CIN:XY98é", "at position 5"},
	}
	for _, tt := range tests {
		_, err := ParseSubject(tt.in)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || e.Kind != KindSubject {
			t.Errorf("ParseSubject(%q) = %v, want an *Error of kind subject", tt.in, err)
			continue
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("ParseSubject(%q): reason %q, want it to say %q", tt.in, e.Reason, tt.reason)
		}
		if leaks(err.Error(), tt.in) {
			t.Errorf("ParseSubject(%q): the error repeats the identifier: %s", tt.in, err)
		}
	}
	_, err := ParseSubject("MA-CIN:ab123456")
	if want := `invalid subject "MA-CIN:…": identifier has a lower-case letter at position 1; write it in capitals, as it is issued (expected form SCHEME:ID)`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}

// leaks reports whether msg holds the identifier part of in (or, for an
// input without a valid scheme, anything of it but the scheme).
func leaks(msg, in string) bool {
	_, id, ok := strings.Cut(in, ":")
	if !ok {
		id = in
	}
	id = strings.TrimSpace(id)
	return len(id) >= 3 && strings.Contains(msg, id)
}

func TestCheckScheme(t *testing.T) {
	for _, s := range []string{"MA-CIN", "X", "FR-NIR2"} {
		if err := CheckScheme(s); err != nil {
			t.Errorf("CheckScheme(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "ma-cin", "MA_CIN", "-X", "X-", "1X", strings.Repeat("A", 33), "MA:CIN"} {
		if err := CheckScheme(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckScheme(%q) = %v, want ErrInvalid", s, err)
		}
	}
}
