package appliance

import (
	"slices"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// catalog lists the services that clerks of member with role may look up
// through the console, as the signed policy's console roles say, each
// with its provider, the purposes its rules grant GET for, and the lookup
// forms of its OpenAPI document (a free path otherwise).
func catalog(p *policy.Policy, member ident.Member, role console.Role) []console.Service {
	b := p.Bundle()
	names := map[ident.Member]string{}
	for _, m := range b.Members {
		names[m.ID] = m.Name
	}
	var out []console.Service
	for _, r := range b.ConsoleRoles {
		if r.Role != string(role) || r.Member != member {
			continue
		}
		for _, id := range r.Services {
			i := slices.IndexFunc(b.Services, func(s policy.Service) bool { return s.ID == id })
			if i < 0 || slices.ContainsFunc(out, func(s console.Service) bool { return s.ID == id.String() }) {
				continue
			}
			out = append(out, catalogEntry(b, b.Services[i], member, names))
		}
	}
	return out
}

func catalogEntry(b *policy.Bundle, s policy.Service, member ident.Member, names map[ident.Member]string) console.Service {
	e := console.Service{ID: s.ID.String(), Provider: s.ID.Member.String(), ProviderName: names[s.ID.Member], Description: s.Description}
	e.Purposes = lookupPurposes(b.Rules, member, s.ID)
	if ops, err := console.OperationsFromOpenAPI(s.OpenAPIDoc); err == nil && len(ops) > 0 {
		e.Operations = ops
	} else {
		e.Operations = []console.Operation{console.FreePath}
	}
	return e
}

// lookupPurposes are the purposes the rules grant member GET on svc for;
// none if some rule grants it without a purpose.
func lookupPurposes(rules []policy.Rule, member ident.Member, svc ident.Service) []string {
	var out []string
	for _, r := range rules {
		if r.Consumer != member || r.Service != svc || !(slices.Contains(r.Methods, "GET") || slices.Contains(r.Methods, "*")) {
			continue
		}
		if r.Purpose == "" {
			return nil
		}
		if !slices.Contains(out, r.Purpose) {
			out = append(out, r.Purpose)
		}
	}
	return out
}
