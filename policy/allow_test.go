package policy

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/babgate/bab/ident"
)

func TestAllow(t *testing.T) {
	p := Compile(labBundle())
	tests := []struct {
		name     string
		consumer ident.Member
		svc      ident.Service
		method   string
		path     string
		want     error // nil, ErrNotAllowed or ErrUnknownService
	}{
		{"GET under prefix", rabat, civilStatus, "GET", "/citizens/42", nil},
		{"POST under prefix", rabat, civilStatus, "POST", "/citizens/", nil},
		{"deep path", rabat, civilStatus, "GET", "/citizens/42/children/1", nil},
		{"method not listed", rabat, civilStatus, "PUT", "/citizens/42", ErrNotAllowed},
		{"methods are case-sensitive", rabat, civilStatus, "get", "/citizens/42", ErrNotAllowed},
		{"prefix with slash: not the bare directory", rabat, civilStatus, "GET", "/citizens", ErrNotAllowed},
		{"outside prefix", rabat, civilStatus, "GET", "/admin", ErrNotAllowed},
		{"sibling with same start", rabat, civilStatus, "GET", "/citizensX/1", ErrNotAllowed},
		{"second rule, bare prefix", rabat, civilStatus, "DELETE", "/drafts", nil},
		{"second rule, below prefix", rabat, civilStatus, "DELETE", "/drafts/7", nil},
		{"second rule, not a segment", rabat, civilStatus, "DELETE", "/draftsX", ErrNotAllowed},
		{"rules are not merged", rabat, civilStatus, "DELETE", "/citizens/42", ErrNotAllowed},
		{"rules are not merged (2)", rabat, civilStatus, "GET", "/drafts/7", ErrNotAllowed},
		{"any method, any path", sale, civilStatus, "PATCH", "/x/y", nil},
		{"any method on root", sale, civilStatus, "OPTIONS", "/", nil},
		{"segment-aware prefix, exact", dgsn, rabatTax, "GET", "/citizens", nil},
		{"segment-aware prefix, below", dgsn, rabatTax, "GET", "/citizens/42", nil},
		{"segment-aware prefix, not a segment", dgsn, rabatTax, "GET", "/citizensX", ErrNotAllowed},
		{"wrong consumer", dgsn, civilStatus, "GET", "/citizens/42", ErrNotAllowed},
		{"unlisted consumer", ident.MustMember("MA/MUN/FES"), civilStatus, "GET", "/citizens/42", ErrNotAllowed},
		{"zero consumer", ident.Member{}, civilStatus, "GET", "/citizens/42", ErrNotAllowed},
		{"listed service without rules", rabat, passports, "GET", "/", ErrNotAllowed},
		{"unknown service", rabat, ident.MustService("MA/GOV/DGSN/nope"), "GET", "/citizens/42", ErrUnknownService},
		{"dot-dot escapes the prefix", rabat, civilStatus, "GET", "/citizens/../admin", ErrNotAllowed},
		{"encoded dot-dot", rabat, civilStatus, "GET", "/citizens/%2e%2e/admin", ErrNotAllowed},
		{"backslash", rabat, civilStatus, "GET", "/citizens/..\\admin", ErrNotAllowed},
		{"NUL", sale, civilStatus, "GET", "/a\x00", ErrNotAllowed},
		{"relative path", sale, civilStatus, "GET", "citizens", ErrNotAllowed},
		{"empty path", sale, civilStatus, "GET", "", ErrNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Allow(tt.consumer, tt.svc, tt.method, tt.path)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Allow = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Allow = %v, want an error matching %v", err, tt.want)
			}
		})
	}
}

func TestAllowMessage(t *testing.T) {
	p := Compile(labBundle())
	err := p.Allow(rabat, civilStatus, "DELETE", "/citizens/42")
	want := `not allowed: MA/MUN/RABAT may not "DELETE" "/citizens/42" on MA/GOV/DGSN/civil-status (policy v3: no rule grants it)`
	if err == nil || err.Error() != want {
		t.Errorf("Allow error = %v\nwant %s", err, want)
	}
	err = p.Allow(rabat, ident.MustService("MA/GOV/DGSN/nope"), "GET", "/")
	want = "unknown service: MA/GOV/DGSN/nope is not in policy v3"
	if err == nil || err.Error() != want {
		t.Errorf("Allow error = %v\nwant %s", err, want)
	}
	long := "/" + strings.Repeat("a", 10000)
	if err := p.Allow(rabat, civilStatus, "GET", long); err == nil || len(err.Error()) > 400 {
		t.Errorf("Allow with a 10 kB path: error of %d bytes, want a short one", len(err.Error()))
	}
}

// Allow runs on every request: it must not allocate when it allows.
func TestAllowDoesNotAllocate(t *testing.T) {
	p := Compile(labBundle())
	allocs := testing.AllocsPerRun(1000, func() {
		if err := p.Allow(rabat, civilStatus, "POST", "/citizens/42"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Allow allocates %v times per allowed request, want 0", allocs)
	}
}

func BenchmarkAllow(b *testing.B) {
	p := Compile(labBundle())
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Allow(rabat, civilStatus, "POST", "/citizens/42/children"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllowDenied(b *testing.B) {
	p := Compile(labBundle())
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Allow(rabat, civilStatus, "DELETE", "/citizens/42"); err == nil {
			b.Fatal("allowed")
		}
	}
}

// Two rules for the same consumer and service that differ by purpose:
// each call is granted by the rule its purpose fits, and refused with the
// purpose explained when none fits.
func TestGrantByPurpose(t *testing.T) {
	b := labBundle()
	r := b.Rules[0]
	birth, audit := r, r
	birth.Purpose, audit.Purpose = "birth-certificate", "audit"
	audit.Methods = []string{"GET"}
	b.Rules = []Rule{birth, audit}
	p := Compile(b)
	for _, c := range []struct {
		purpose  string
		wantRule int
		wantErr  string
	}{
		{"birth-certificate", 0, ""},
		{"audit", 1, ""},
		{"", -1, "declare it with the header Bab-Purpose: birth-certificate"},
		{"marketing", -1, `not "marketing"`},
	} {
		rule, _, err := p.Grant(r.Consumer, r.Service, "GET", "/citizens/1", "", c.purpose)
		if rule != c.wantRule || (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("purpose %q: rule %d, err %v; want rule %d, error with %q", c.purpose, rule, err, c.wantRule, c.wantErr)
		}
		if err != nil && !errors.Is(err, ErrNotAllowed) {
			t.Errorf("purpose %q: error %v does not match ErrNotAllowed", c.purpose, err)
		}
	}
}

// A rule that lists query parameters grants only calls whose query names
// none other; an empty list allows no query at all; a rule without the
// list allows any query. The restriction survives signing and decoding.
func TestGrantByQuery(t *testing.T) {
	b := labBundle()
	b.Rules[0].Query = []string{"cin", "year"}
	b.Rules[1].Query = []string{}
	for _, p := range []*Policy{Compile(b), roundTrip(t, b)} {
		for _, c := range []struct {
			method, path, query string
			ok                  bool
		}{
			{"GET", "/citizens/1", "", true},
			{"GET", "/citizens/1", "cin=AB12&year=2024", true},
			{"GET", "/citizens/1", "cin=AB12&cin=CD34", true},
			{"GET", "/citizens/1", "c%69n=AB12", true}, // a name is compared as the backend decodes it
			{"GET", "/citizens/1", "cin=1&admin=1", false},
			{"GET", "/citizens/1", "cin=1;admin=1", false}, // some backends split on ';'
			{"GET", "/citizens/1", "%zz=1", false},
			{"DELETE", "/drafts/7", "", true},
			{"DELETE", "/drafts/7", "force=1", false},
			{"PATCH", "/anything", "any=thing", false}, // no rule for rabat
		} {
			_, _, err := p.Grant(rabat, civilStatus, c.method, c.path, c.query, "")
			if (err == nil) != c.ok {
				t.Errorf("%s %s?%s: err %v, want allowed %v", c.method, c.path, c.query, err, c.ok)
			}
		}
		if _, _, err := p.Grant(sale, civilStatus, "GET", "/x", "anything=at&all=1", ""); err != nil {
			t.Errorf("a rule without a query list refused a query: %v", err)
		}
	}
}

// roundTrip signs and verifies b as an appliance would receive it.
func roundTrip(t *testing.T, b *Bundle) *Policy {
	t.Helper()
	pub, priv := newKey(t, 9)
	s, err := Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := got.VerifyOver(Trust{Keys: []ed25519.PublicKey{pub}}, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
