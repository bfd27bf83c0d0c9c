package policy

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
)

func TestCompileQueries(t *testing.T) {
	b := labBundle()
	p := Compile(b)
	if p.Version() != 3 || !p.Expires().Equal(b.Expires) {
		t.Errorf("Version, Expires = %d, %v; want 3, %v", p.Version(), p.Expires(), b.Expires)
	}
	routes := []struct {
		svc  ident.Service
		want []ident.Appliance
	}{
		{civilStatus, []ident.Appliance{dgsnRabat01, dgsnRabat02}},
		{rabatTax, []ident.Appliance{rabatHQ}},
		{passports, nil},
		{ident.MustService("MA/GOV/DGSN/nope"), nil},
	}
	for _, tt := range routes {
		if got := p.Routes(tt.svc); !slices.Equal(got, tt.want) {
			t.Errorf("Routes(%v) = %v, want %v", tt.svc, got, tt.want)
		}
	}
	servicesOf := []struct {
		a    ident.Appliance
		want []ident.Service
	}{
		{dgsnRabat01, []ident.Service{civilStatus}},
		{rabatHQ, []ident.Service{rabatTax}},
		{ident.MustAppliance("MA/GOV/DGSN:fes-01"), nil},
	}
	for _, tt := range servicesOf {
		if got := p.ServicesOf(tt.a); !slices.Equal(got, tt.want) {
			t.Errorf("ServicesOf(%v) = %v, want %v", tt.a, got, tt.want)
		}
	}
	has := []struct {
		got, want bool
		what      string
	}{
		{p.HasService(civilStatus), true, "HasService(civil-status)"},
		{p.HasService(passports), true, "HasService(passports)"},
		{p.HasService(ident.MustService("MA/GOV/DGSN/nope")), false, "HasService(nope)"},
		{p.HasAppliance(dgsnRabat02), true, "HasAppliance(rabat-02)"},
		{p.HasAppliance(ident.MustAppliance("MA/GOV/DGSN:fes-01")), false, "HasAppliance(fes-01)"},
	}
	for _, tt := range has {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

// A Policy must not change when the caller reuses the Bundle it compiled,
// nor when a caller edits what the Policy handed out.
func TestCompileIsolation(t *testing.T) {
	b := labBundle()
	p := Compile(b)
	b.Version = 99
	b.Rules[0].Methods[0] = "DELETE"
	b.Routes[0].Appliances[0] = rabatHQ
	if err := p.Allow(rabat, civilStatus, "GET", "/citizens/1"); err != nil {
		t.Errorf("editing the source bundle changed the policy: %v", err)
	}
	p.Routes(civilStatus)[0] = rabatHQ
	p.ServicesOf(dgsnRabat01)[0] = passports
	got := p.Bundle()
	got.Rules[0].PathPrefixes[0] = "/"
	if r := p.Routes(civilStatus); r[0] != dgsnRabat01 {
		t.Errorf("editing Routes' result changed the policy: %v", r)
	}
	if s := p.ServicesOf(dgsnRabat01); s[0] != civilStatus {
		t.Errorf("editing ServicesOf's result changed the policy: %v", s)
	}
	if p.Version() != 3 || p.Bundle().Rules[0].PathPrefixes[0] != "/citizens/" {
		t.Errorf("editing Bundle's result changed the policy")
	}
}

func TestCompileNil(t *testing.T) {
	p := Compile(nil)
	if p.Version() != 0 || !p.Expires().IsZero() || p.Bundle() != nil {
		t.Errorf("Compile(nil): version %d, expires %v, bundle %v", p.Version(), p.Expires(), p.Bundle())
	}
	if err := p.Allow(rabat, civilStatus, "GET", "/"); err == nil {
		t.Error("Compile(nil) allows a request")
	}
}

// Compile trusts Validate, but a bad bundle must not make Allow panic.
func TestCompileUnvalidated(t *testing.T) {
	b := labBundle()
	b.Rules[0].PathPrefixes = []string{"", "citizens", "/citizens/"}
	p := Compile(b)
	if err := p.Allow(rabat, civilStatus, "GET", "/citizens/1"); err != nil {
		t.Errorf("Allow = %v", err)
	}
	if err := p.Allow(rabat, civilStatus, "GET", "/other"); err == nil {
		t.Error("an empty prefix allowed everything")
	}
}

func TestPolicyConcurrent(t *testing.T) {
	p := Compile(labBundle())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if err := p.Allow(rabat, civilStatus, "GET", "/citizens/1"); err != nil {
					t.Error(err)
					return
				}
				_ = p.Routes(civilStatus)
				_ = p.Expires().After(time.Now())
			}
		})
	}
	wg.Wait()
}

func TestAttestIntervalFromSource(t *testing.T) {
	src := strings.Replace(string(mustRead(t, "testdata/attest_interval.yaml")), "attest_interval: 3s", "attest_interval: 10m", 1)
	b, err := ParseSource("p.yaml", []byte(src), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := Compile(b).AttestInterval(); got != 10*time.Minute {
		t.Fatalf("AttestInterval = %s, want 10m", got)
	}
	if got := Compile(labBundle()).AttestInterval(); got != 0 {
		t.Fatalf("a policy without attest_interval gives %s, want 0", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
