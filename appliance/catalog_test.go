package appliance

import (
	"testing"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// The console's catalog follows the signed policy's console roles: a role
// sees its services, with the provider's name, the purposes its rules
// grant GET for, and the forms of the service's OpenAPI document; a role
// the policy does not give the member sees nothing.
func TestCatalogFollowsConsoleRoles(t *testing.T) {
	commune, registry := ident.MustMember("MA/MUN/RABAT"), ident.MustMember("MA/GOV/ETATCIVIL")
	civil, social := ident.MustService("MA/GOV/ETATCIVIL/civil-status"), ident.MustService("MA/GOV/ETATCIVIL/marriages")
	now := time.Now()
	p := policy.Compile(&policy.Bundle{Version: 3, Issued: now, Expires: now.Add(time.Hour),
		Members: []policy.Member{{ID: commune, Name: "Commune de Rabat"}, {ID: registry, Name: "État civil"}},
		Services: []policy.Service{
			{ID: civil, Description: "Civil status", OpenAPIDoc: []byte(`{"openapi":"3.0.3","paths":{"/citizens/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true}]}}}}`)},
			{ID: social, Description: "Marriages"},
		},
		Rules: []policy.Rule{
			{Consumer: commune, Service: civil, Methods: []string{"GET"}, PathPrefixes: []string{"/"}, Purpose: "birth-certificate"},
			{Consumer: commune, Service: civil, Methods: []string{"GET"}, PathPrefixes: []string{"/"}, Purpose: "benefit-eligibility"},
			{Consumer: commune, Service: social, Methods: []string{"*"}, PathPrefixes: []string{"/"}},
		},
		ConsoleRoles: []policy.ConsoleRole{{Role: "clerk", Member: commune, Services: []ident.Service{civil, social}}},
	})
	got := catalog(p, commune, console.RoleClerk)
	if len(got) != 2 {
		t.Fatalf("catalog %+v: want two services", got)
	}
	c := got[0]
	if c.ID != civil.String() || c.ProviderName != "État civil" || len(c.Purposes) != 2 || len(c.Operations) != 1 || c.Operations[0].Path != "/citizens/{id}" {
		t.Errorf("civil status entry %+v", c)
	}
	if m := got[1]; len(m.Purposes) != 0 || len(m.Operations) != 1 || m.Operations[0].Path != console.FreePath.Path {
		t.Errorf("marriages entry %+v: want no purpose and the free path form", m)
	}
	if got := catalog(p, commune, console.RoleOfficeIT); len(got) != 0 {
		t.Errorf("a role the policy does not give sees %+v", got)
	}
	if got := catalog(p, registry, console.RoleClerk); len(got) != 0 {
		t.Errorf("another member's clerk sees %+v", got)
	}
}
