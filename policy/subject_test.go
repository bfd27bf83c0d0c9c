package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheckSubject: what each hop makes of a request's Bab-Subject, for a
// service that requires one, one where it is optional, and one that
// takes none.
func TestCheckSubject(t *testing.T) {
	b := labBundle()
	b.Services[0].Subject, b.Services[0].SubjectSchemes = SubjectRequired, []string{"MA-CIN", "MA-PASSPORT"}
	b.Services[1].Subject, b.Services[1].SubjectSchemes = SubjectOptional, []string{"MA-CIN"}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	p := Compile(b)
	tests := []struct {
		name, svc, declared, want string
		err                       error
	}{
		{"required, given", "civil-status", "MA-CIN:XY987654", "MA-CIN:XY987654", nil},
		{"required, second scheme", "civil-status", "MA-PASSPORT:P1234", "MA-PASSPORT:P1234", nil},
		{"required, missing", "civil-status", "", "", ErrSubjectRequired},
		{"required, malformed", "civil-status", "MA-CIN:xy987654", "", ErrBadSubject},
		{"required, scheme not accepted", "civil-status", "FR-NIR:1850578006048", "", ErrBadSubject},
		{"optional, given", "passports", "MA-CIN:XY987654", "MA-CIN:XY987654", nil},
		{"optional, none", "passports", "", "", nil},
		{"optional, malformed", "passports", "XY987654", "", ErrBadSubject},
		{"not taken: dropped", "tax", "MA-CIN:XY987654", "", nil},
		{"not taken, malformed: dropped", "tax", "garbage", "", nil},
	}
	svcs := map[string]string{"civil-status": "MA/GOV/DGSN/civil-status", "passports": "MA/GOV/DGSN/passports", "tax": "MA/MUN/RABAT/tax"}
	for _, tt := range tests {
		svc := civilStatus
		switch tt.svc {
		case "passports":
			svc = passports
		case "tax":
			svc = rabatTax
		}
		if svc.String() != svcs[tt.svc] {
			t.Fatal("test services")
		}
		got, err := p.CheckSubject(svc, tt.declared)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: CheckSubject(%q) = %q, %v; want %q, %v", tt.name, tt.declared, got, err, tt.want, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "987654") {
			t.Errorf("%s: the refusal repeats the identifier: %v", tt.name, err)
		}
	}
	if takes, required, schemes := p.SubjectOf(civilStatus); !takes || !required || len(schemes) != 2 {
		t.Errorf("SubjectOf(civil-status) = %v, %v, %v", takes, required, schemes)
	}
}

// TestConfidentialUntil: a request's record is held back for the longest
// confidentiality among the rules that may have granted it, as the
// exchange sees it (no path): a rule for another purpose or method does
// not count.
func TestConfidentialUntil(t *testing.T) {
	b := labBundle()
	date := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	b.Rules = append(b.Rules,
		Rule{Consumer: rabat, Service: civilStatus, Methods: []string{"GET"}, PathPrefixes: []string{"/files/"}, Purpose: "investigation", ConfidentialFor: 180 * 86400},
		Rule{Consumer: rabat, Service: civilStatus, Methods: []string{"GET"}, PathPrefixes: []string{"/sealed/"}, Purpose: "investigation", ConfidentialUntil: date},
		Rule{Consumer: rabat, Service: civilStatus, Methods: []string{"PUT"}, PathPrefixes: []string{"/"}, ConfidentialFor: 86400},
	)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	p := Compile(b)
	at := testNow
	if got := p.ConfidentialUntil(rabat, civilStatus, "GET", "", at); !got.IsZero() {
		t.Errorf("a GET without purpose is held back until %v", got)
	}
	if got, want := p.ConfidentialUntil(rabat, civilStatus, "GET", "investigation", at), date; !got.Equal(want) {
		t.Errorf("an investigation's GET is held back until %v, want %v (the later of the two rules)", got, want)
	}
	if got := p.ConfidentialUntil(rabat, civilStatus, "GET", "investigation", date.Add(-24*time.Hour)); !got.Equal(date.Add(179 * 24 * time.Hour)) {
		t.Errorf("late request: held back until %v", got)
	}
	if got := p.ConfidentialUntil(rabat, civilStatus, "PUT", "", at); !got.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("a PUT is held back until %v, want a day", got)
	}
	if got := p.ConfidentialUntil(sale, civilStatus, "GET", "investigation", at); !got.IsZero() {
		t.Errorf("another consumer's request is held back until %v", got)
	}
}
