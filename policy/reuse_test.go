package policy

import (
	"crypto/ed25519"
	"reflect"
	"slices"
	"testing"

	"github.com/babgate/bab/ident"
)

// verifyBoth verifies s from scratch and over prev, and fails the test
// unless both give the same verdict and, when they accept, the same
// bundle and the same compiled answers.
func verifyBoth(t *testing.T, s *Signed, trust Trust, prev *Policy) *Policy {
	t.Helper()
	b, errFull := s.Verify(trust, testNow)
	p, errOver := s.VerifyOver(trust, testNow, prev)
	if (errFull == nil) != (errOver == nil) || (errFull != nil && errFull.Error() != errOver.Error()) {
		t.Fatalf("from scratch: %v\nover the previous policy: %v", errFull, errOver)
	}
	if errFull != nil {
		return nil
	}
	full := Compile(b)
	if !reflect.DeepEqual(p.bundle, full.bundle) {
		t.Fatalf("bundle over the previous policy differs:\n%+v\nfrom scratch:\n%+v", p.bundle, full.bundle)
	}
	if !reflect.DeepEqual(p.grants, full.grants) || !reflect.DeepEqual(p.routes, full.routes) ||
		!reflect.DeepEqual(p.servicesOf, full.servicesOf) ||
		!reflect.DeepEqual(p.index.services, full.index.services) || !reflect.DeepEqual(p.index.appliances, full.index.appliances) {
		t.Fatal("the policy compiled over the previous one answers differently from one compiled from scratch")
	}
	return p
}

func sameMap[M any](a, b M) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// Reusing unchanged sections gives exactly the verdicts and policies of
// verifying from scratch, including when an unchanged section breaks a
// rule because a section it refers to changed.
func TestVerifyOverMatchesVerify(t *testing.T) {
	pub, priv := newKey(t, 1)
	trust := Trust{Keys: []ed25519.PublicKey{pub}}
	base := func() *Bundle {
		b := labBundle()
		b.ConsoleRoles = []ConsoleRole{{Role: "clerk", Member: rabat, Services: []ident.Service{civilStatus}}}
		return b
	}
	prevSigned, err := Sign(base(), priv)
	if err != nil {
		t.Fatal(err)
	}
	prev := verifyBoth(t, prevSigned, trust, nil)

	without := func(list []Member, id ident.Member) []Member {
		return slices.DeleteFunc(slices.Clone(list), func(m Member) bool { return m.ID == id })
	}
	tests := []struct {
		name   string
		change func(b *Bundle)
		valid  bool
	}{
		{"version only", func(b *Bundle) {}, true},
		{"a rule changed", func(b *Bundle) { b.Rules[0].Methods = []string{"GET"} }, true},
		{"an appliance added", func(b *Bundle) {
			b.Appliances = append(b.Appliances, Appliance{ID: ident.MustAppliance("MA/MUN/SALE:hq"), Key: keyOf(ident.MustAppliance("MA/MUN/SALE:hq"))})
		}, true},
		{"an appliance's key changed", func(b *Bundle) { b.Appliances[0].Key = keyOf(ident.MustAppliance("MA/GOV/DGSN:rabat-09")) }, true},
		{"an appliance's key removed", func(b *Bundle) { b.Appliances[0].Key = "" }, false},
		{"an appliance given another's key", func(b *Bundle) { b.Appliances[0].Key = b.Appliances[1].Key }, false},
		{"an unused service removed", func(b *Bundle) { b.Services = slices.Delete(b.Services, 1, 2) }, true},
		{"a member named by unchanged rules removed", func(b *Bundle) { b.Members = without(b.Members, sale) }, false},
		{"a member owning unchanged appliances removed", func(b *Bundle) {
			b.Members = without(b.Members, dgsn)
			b.Rules = b.Rules[:3]
			b.Services = b.Services[2:]
			b.Routes = b.Routes[1:]
		}, false},
		{"an appliance named by an unchanged route removed", func(b *Bundle) { b.Appliances = b.Appliances[1:] }, false},
		{"a service named by unchanged rules, routes and roles removed", func(b *Bundle) { b.Services = b.Services[1:] }, false},
		{"an appliance of an unlisted member added", func(b *Bundle) {
			b.Appliances = append(b.Appliances, Appliance{ID: ident.MustAppliance("MA/MUN/FES:hq"), Key: keyOf(ident.MustAppliance("MA/MUN/FES:hq"))})
		}, false},
		{"a duplicate appliance added", func(b *Bundle) { b.Appliances = append(b.Appliances, b.Appliances[0]) }, false},
		{"a route to an unlisted appliance", func(b *Bundle) {
			b.Routes[1].Appliances = []ident.Appliance{ident.MustAppliance("MA/MUN/RABAT:annex")}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			b.Version = 4
			tt.change(b)
			s := &Signed{}
			var err error
			if s.Payload, err = encodePayload(b); err != nil {
				t.Fatal(err)
			}
			if err := s.sign(priv); err != nil { // Sign would refuse the invalid ones
				t.Fatal(err)
			}
			if p := verifyBoth(t, s, trust, prev); (p != nil) != tt.valid {
				t.Errorf("accepted = %v, want %v", p != nil, tt.valid)
			}
		})
	}
}

// What did not change is shared with the previous policy rather than
// decoded and compiled again: that is the point of sections.
func TestVerifyOverShares(t *testing.T) {
	pub, priv := newKey(t, 1)
	trust := Trust{Keys: []ed25519.PublicKey{pub}}
	s3, err := Sign(labBundle(), priv)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := s3.VerifyOver(trust, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := labBundle()
	b.Version = 4
	b.Rules[0].Methods = []string{"GET"}
	s4, err := Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	p4, err := s4.VerifyOver(trust, testNow, p3)
	if err != nil {
		t.Fatal(err)
	}
	if &p4.bundle.Appliances[0] != &p3.bundle.Appliances[0] || !sameMap(p4.index.appliances, p3.index.appliances) ||
		!sameMap(p4.routes, p3.routes) {
		t.Error("the unchanged appliances and routes were decoded or compiled again")
	}
	if &p4.bundle.Rules[0] == &p3.bundle.Rules[0] || sameMap(p4.grants, p3.grants) {
		t.Error("the changed rules were taken from the previous policy")
	}
	if err := p4.Allow(rabat, civilStatus, "POST", "/citizens/1"); err == nil {
		t.Error("the new rule (GET only) still allows POST")
	}
	if err := p3.Allow(rabat, civilStatus, "POST", "/citizens/1"); err != nil {
		t.Errorf("the previous policy changed under the new one: %v", err)
	}
	// A policy compiled from a Bundle has no payload to share.
	p5, err := s4.VerifyOver(trust, testNow, Compile(labBundle()))
	if err != nil {
		t.Fatal(err)
	}
	if &p5.bundle.Appliances[0] == &p3.bundle.Appliances[0] {
		t.Error("shared sections with a policy that has no payload")
	}
}
