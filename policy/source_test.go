package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/golden"
)

// TestSourceGolden parses every testdata/*.yaml: a file with a .err twin
// must fail with exactly that text, any other must parse. -update rewrites
// the .err files from what ParseSource now says.
func TestSourceGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			goldenPath := strings.TrimSuffix(file, ".yaml") + ".err"
			_, perr := ParseSource(name, data, testNow)
			got := ""
			if perr != nil {
				got = perr.Error() + "\n"
			}
			// A file without a .err twin must parse: Check then sees no
			// output and no file.
			golden.Check(t, goldenPath, []byte(got))
			if got == "" {
				return
			}
			for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if !strings.HasPrefix(line, name+":") {
					t.Errorf("error line %q does not start with %q", line, name+":")
				}
			}
		})
	}
}

func TestParseSourceLab(t *testing.T) {
	data, err := os.ReadFile("testdata/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSource("lab.yaml", data, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 3 || !b.Issued.Equal(testNow) || !b.Expires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("version %d, issued %v, expires %v; want 3, %v, 2027-01-31", b.Version, b.Issued, b.Expires, testNow)
	}
	if got, want := len(b.Members), 2; got != want || b.Members[0].Name != "Direction Générale de la Sûreté Nationale" {
		t.Errorf("members = %+v", b.Members)
	}
	if len(b.Appliances) != 2 || b.Appliances[1].ID != rabatHQ || b.Appliances[0].Key != keyOf(dgsnRabat01) || b.Appliances[1].Key != "" {
		t.Errorf("appliances = %+v, want rabat-01 with its key and hq without (to be filled)", b.Appliances)
	}
	if len(b.Services) != 1 || b.Services[0].ID != civilStatus || b.Services[0].Description != "Civil status records" {
		t.Errorf("services = %+v", b.Services)
	}
	wantRule := Rule{Consumer: rabat, Service: civilStatus, Methods: []string{"GET", "POST"}, PathPrefixes: []string{"/citizens/"}}
	if len(b.Rules) != 1 || !ruleEqual(b.Rules[0], wantRule) {
		t.Errorf("rules = %+v, want [%+v]", b.Rules, wantRule)
	}
	if len(b.Routes) != 1 || b.Routes[0].Service != civilStatus || len(b.Routes[0].Appliances) != 1 || b.Routes[0].Appliances[0] != dgsnRabat01 {
		t.Errorf("routes = %+v", b.Routes)
	}
	if err := Compile(b).Allow(rabat, civilStatus, "GET", "/citizens/42"); err != nil {
		t.Errorf("lab policy refuses the lab request: %v", err)
	}
}

func ruleEqual(a, b Rule) bool {
	return a.Consumer == b.Consumer && a.Service == b.Service &&
		strings.Join(a.Methods, ",") == strings.Join(b.Methods, ",") &&
		strings.Join(a.PathPrefixes, ",") == strings.Join(b.PathPrefixes, ",")
}

func TestParseSourceValidFor(t *testing.T) {
	base := "version: 1\nmembers: [{id: MA/GOV/DGSN, name: DGSN}]\nvalid_for: "
	tests := []struct {
		in   string
		want time.Duration // 0: an error
	}{
		{"720h", 720 * time.Hour},
		{"30d", 30 * 24 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"0d", 0},
		{"-1h", 0},
		{"1.5d", 0},
		{"d", 0},
		{"99999999999999d", 0},
		{"forever", 0},
	}
	for _, tt := range tests {
		b, err := ParseSource("t.yaml", []byte(base+tt.in+"\n"), testNow)
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("valid_for %s: got expiry %v, want an error", tt.in, b.Expires)
		case tt.want == 0:
			if !strings.HasPrefix(err.Error(), "t.yaml:3: valid_for: ") {
				t.Errorf("valid_for %s: error %q, want it placed at t.yaml:3", tt.in, err)
			}
		case err != nil:
			t.Errorf("valid_for %s: %v", tt.in, err)
		case !b.Expires.Equal(testNow.Add(tt.want)):
			t.Errorf("valid_for %s: expires %v, want %v", tt.in, b.Expires, testNow.Add(tt.want))
		}
	}
}

func TestParseSourceErrorTypes(t *testing.T) {
	src := "version: 1\nvalid_for: 1d\nmembers:\n  - id: MA/GOV/DGSN\n    name: x\nrules:\n  - consumer: MA/GOV/DGSN\n    service: MA/GOV/DGSN/nope\n    methods: [GET]\n    paths: [/]\n"
	_, err := ParseSource("t.yaml", []byte(src), testNow)
	var se *SourceError
	if !errors.As(err, &se) || se.Line != 8 || se.Name != "t.yaml" {
		t.Fatalf("error %v, want a *SourceError at t.yaml:8", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("validation error %v does not match ErrInvalid", err)
	}
	_, err = ParseSource("t.yaml", []byte("version: [\n"), testNow)
	if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrInvalid) {
		t.Errorf("syntax error %v: want ErrMalformed only", err)
	}
	_, err = ParseSource("t.yaml", []byte("members:\n  - id: bad\n"), testNow)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "t.yaml:2: members[0].id: invalid member identifier") {
		t.Errorf("bad id error %v", err)
	}
}

func TestParseSourceTooBig(t *testing.T) {
	data := make([]byte, maxSourceSize+1)
	_, err := ParseSource("big.yaml", data, testNow)
	if !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), "big.yaml:1: ") {
		t.Errorf("oversized source: %v", err)
	}
}

var _ = ident.ErrInvalid // the source tests lean on ident's messages

// The commented example ops start from must parse.
func TestPackagedExample(t *testing.T) {
	b, err := ParseSource("policy.example.yaml", mustRead(t, "../packaging/policy.example.yaml"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 12 || len(b.Rules[0].Limits) != 2 || b.Rules[0].Purpose != "birth-certificate" || len(b.ConsoleRoles) != 1 || b.Services[0].OpenAPI == "" {
		t.Fatalf("example parsed as %+v", b)
	}
}

// In the source, a rule without "query" allows any query, "query: []" none,
// and a list only those names; a name that cannot be compared is refused
// with its line.
func TestParseSourceQuery(t *testing.T) {
	src := `version: 4
valid_for: 30d
members:
  - id: MA/MUN/RABAT
  - id: MA/GOV/ETATCIVIL
appliances: [MA/GOV/ETATCIVIL:dc1]
services:
  - id: MA/GOV/ETATCIVIL/civil-status
rules:
  - consumer: MA/MUN/RABAT
    service: MA/GOV/ETATCIVIL/civil-status
    methods: [GET]
    paths: [/citizens/]
  - consumer: MA/MUN/RABAT
    service: MA/GOV/ETATCIVIL/civil-status
    methods: [POST]
    paths: [/drafts/]
    query: []
  - consumer: MA/MUN/RABAT
    service: MA/GOV/ETATCIVIL/civil-status
    methods: [PUT]
    paths: [/drafts/]
    query: [cin, year]
routes:
  - service: MA/GOV/ETATCIVIL/civil-status
    appliances: [MA/GOV/ETATCIVIL:dc1]
`
	b, err := ParseSource("q.yaml", []byte(src), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if q := b.Rules[0].Query; q != nil {
		t.Errorf("no query key: %#v, want nil (any query)", q)
	}
	if q := b.Rules[1].Query; q == nil || len(q) != 0 {
		t.Errorf("query: []: %#v, want empty (no query)", q)
	}
	if q := b.Rules[2].Query; len(q) != 2 || q[0] != "cin" {
		t.Errorf("query: [cin, year]: %#v", q)
	}
	_, err = ParseSource("q.yaml", []byte(strings.Replace(src, "[cin, year]", "[cin, \"a=b\"]", 1)), testNow)
	if err == nil || !strings.Contains(err.Error(), "q.yaml:23:") || !strings.Contains(err.Error(), "query") {
		t.Errorf("a bad query name: %v, want an error at line 23", err)
	}
}

// ApproveAppliances lists enrolled appliances with their keys in a source
// as ops wrote it: comments kept, the version raised, an appliance listed
// without its key given it, one listed with it not touched, and the
// result still a valid source that binds each to its key.
func TestApproveAppliances(t *testing.T) {
	src := []byte(`# The federation's policy.
version: 7
valid_for: 30d
members:
  - id: MA/MUN/RABAT # the commune
  - id: MA/GOV/ETATCIVIL
appliances: [MA/GOV/ETATCIVIL:dc1, MA/MUN/RABAT:kiosk]
services:
  - id: MA/GOV/ETATCIVIL/civil-status
rules:
  - consumer: MA/MUN/RABAT
    service: MA/GOV/ETATCIVIL/civil-status
    methods: [GET]
    paths: [/citizens/]
routes:
  - service: MA/GOV/ETATCIVIL/civil-status
    appliances: [MA/GOV/ETATCIVIL:dc1]
`)
	hq, annex, dc1 := ident.MustAppliance("MA/MUN/RABAT:hq"), ident.MustAppliance("MA/MUN/RABAT:annex"), ident.MustAppliance("MA/GOV/ETATCIVIL:dc1")
	out, added, keyed, err := ApproveAppliances(src, []Appliance{{ID: hq, Key: keyOf(hq)}, {ID: annex, Key: keyOf(annex)}, {ID: dc1, Key: keyOf(dc1)}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []ident.Appliance{hq, annex}) || !slices.Equal(keyed, []ident.Appliance{dc1}) {
		t.Errorf("added %v and keyed %v, want hq and annex added, dc1 (listed without a key) keyed", added, keyed)
	}
	for _, want := range []string{"# The federation's policy.", "# the commune", "version: 8", "  - MA/MUN/RABAT:kiosk\n",
		"  - id: MA/MUN/RABAT:hq\n    key: " + keyOf(hq) + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the edited source lacks %q:\n%s", want, out)
		}
	}
	b, err := ParseSource("p.yaml", out, testNow)
	if err != nil {
		t.Fatalf("the edited source does not parse: %v\n%s", err, out)
	}
	p := Compile(b)
	for _, id := range []ident.Appliance{hq, annex, dc1} {
		if k, ok := p.ApplianceKey(id); !ok || k != keyOf(id) {
			t.Errorf("the edited source binds %s to %q (listed %v), want %s", id, k, ok, keyOf(id))
		}
	}
	if b.Version != 8 {
		t.Errorf("the edited source is v%d, want 8", b.Version)
	}
	again, added, keyed, err := ApproveAppliances(out, []Appliance{{ID: hq, Key: keyOf(hq)}})
	if err != nil || len(added)+len(keyed) != 0 || string(again) != string(out) {
		t.Errorf("approving an appliance listed with its key changed the source: %v %v %v", added, keyed, err)
	}
	// A new key for a listed appliance (it was replaced) takes the old
	// one's place.
	replaced := keyOf(ident.MustAppliance("MA/MUN/RABAT:hq-new"))
	out, added, keyed, err = ApproveAppliances(out, []Appliance{{ID: hq, Key: replaced}})
	if err != nil || len(added) != 0 || !slices.Equal(keyed, []ident.Appliance{hq}) {
		t.Fatalf("approving a new key: %v %v %v", added, keyed, err)
	}
	if b, err = ParseSource("p.yaml", out, testNow); err != nil || b.Version != 9 || strings.Contains(string(out), keyOf(hq)) {
		t.Fatalf("after approving a new key: %v\n%s", err, out)
	}
	if k, _ := Compile(b).ApplianceKey(hq); k != replaced {
		t.Errorf("hq is bound to %s, want the new key %s", k, replaced)
	}
	if _, _, _, err := ApproveAppliances(out, []Appliance{{ID: hq, Key: "sha256:abc"}}); err == nil {
		t.Error("approving a key that is not one was accepted")
	}
}
