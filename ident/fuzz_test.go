package ident

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// subjectReasons are every reason ParseSubject gives: fixed words and
// numbers, nothing of the input.
var subjectReasons = regexp.MustCompile(`^(subject is empty|has no ':' between the scheme and the identifier|subject is [0-9]+ bytes long; the limit is 97|` +
	`scheme must be 1 to 32 capitals, digits and '-', starting with a letter and ending with a letter or digit \(MA-CIN\)|identifier is empty|` +
	`identifier is [0-9]+ bytes long; the limit is 64|identifier has a lower-case letter at position [0-9]+; write it in capitals, as it is issued|` +
	`identifier has a character other than A-Z, 0-9, '-' and '.' at position [0-9]+|identifier must start and end with a letter or digit)$`)

var fuzzSeeds = []string{
	"", "/", ":", "MA/GOV/DGSN", "MA/MUN/RABAT", "MA/GOV/DGSN/civil-status",
	"MA/GOV/DGSN:rabat-01", "/MA/GOV/DGSN/civil-status/citizens/42",
	"/MA/GOV/DGSN/civil-status", "ma/gov/x", "MA/GOV/-X-", "MA/GOV/DGSN/a-",
	"MA/GOV/DGSN:a:b", "MA/GOV/DG\xffSN", "MA/GOV/DGSN/é",
}

// checkParseError holds every failed parse to the error contract.
func checkParseError(t *testing.T, in string, err error, kind string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("parse %q: error %v (%T), want *Error matching ErrInvalid", in, err, err)
	}
	if e.Kind != kind || e.Reason == "" || len(e.Input) > maxQuoted {
		t.Fatalf("parse %q: bad error %#v", in, e)
	}
}

func FuzzParseMember(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseMember(in)
		if err != nil {
			checkParseError(t, in, err, KindMember)
			return
		}
		if m.String() != in {
			t.Fatalf("ParseMember(%q).String() = %q", in, m.String())
		}
		again, err := ParseMember(m.String())
		if err != nil || again != m {
			t.Fatalf("reparse of %q: %v, %v", in, again, err)
		}
		if text, err := m.MarshalText(); err != nil || string(text) != in {
			t.Fatalf("MarshalText of %q: %q, %v", in, text, err)
		}
	})
}

func FuzzParseService(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseService(in)
		if err != nil {
			checkParseError(t, in, err, KindService)
			return
		}
		if s.String() != in {
			t.Fatalf("ParseService(%q).String() = %q", in, s.String())
		}
		again, err := ParseService(s.String())
		if err != nil || again != s {
			t.Fatalf("reparse of %q: %v, %v", in, again, err)
		}
		if text, err := s.MarshalText(); err != nil || string(text) != in {
			t.Fatalf("MarshalText of %q: %q, %v", in, text, err)
		}
	})
}

func FuzzParseAppliance(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAppliance(in)
		if err != nil {
			checkParseError(t, in, err, KindAppliance)
			return
		}
		if a.String() != in {
			t.Fatalf("ParseAppliance(%q).String() = %q", in, a.String())
		}
		again, err := ParseAppliance(a.String())
		if err != nil || again != a {
			t.Fatalf("reparse of %q: %v, %v", in, again, err)
		}
		if text, err := a.MarshalText(); err != nil || string(text) != in {
			t.Fatalf("MarshalText of %q: %q, %v", in, text, err)
		}
	})
}

func FuzzSplitServicePath(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		svc, rest, err := SplitServicePath(in)
		if err != nil {
			checkParseError(t, in, err, KindServicePath)
			return
		}
		if rest == "" || rest[0] != '/' {
			t.Fatalf("SplitServicePath(%q): rest %q does not start with '/'", in, rest)
		}
		joined := "/" + svc.String()
		if joined+rest != in && !(rest == "/" && joined == in) {
			t.Fatalf("SplitServicePath(%q) = %v, %q; they do not rebuild the input", in, svc, rest)
		}
		again, err := ParseService(svc.String())
		if err != nil || again != svc {
			t.Fatalf("reparse of service from %q: %v, %v", in, again, err)
		}
	})
}

// FuzzParseSubject: a subject that parses prints as its input, and a
// refusal never repeats the identifier (the input after the first ':').
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"MA-CIN:AB123456", "MA-CIN:ab123456", "AB123456", ":", "MA-CIN:A.B", "X:1", "MA-CIN:AB:1", "MA-CIN:\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSubject(in)
		if err != nil {
			checkParseError(t, in, err, KindSubject)
			var e *Error
			errors.As(err, &e)
			scheme, _, _ := strings.Cut(in, ":")
			if e.Input != "…" && e.Input != scheme+":…" || !subjectReasons.MatchString(e.Reason) {
				t.Fatalf("ParseSubject(%q): the error may repeat the identifier: %v", in, err)
			}
			return
		}
		if s.String() != in || s.IsZero() {
			t.Fatalf("ParseSubject(%q) = %#v", in, s)
		}
		if CheckScheme(s.Scheme) != nil {
			t.Fatalf("ParseSubject(%q) took scheme %q, which CheckScheme refuses", in, s.Scheme)
		}
	})
}
