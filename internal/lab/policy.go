package lab

import (
	"fmt"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// The lab federation: a commune that consumes and the civil registry that
// provides.
var (
	Commune        = ident.MustMember("MA/MUN/RABAT")
	Registry       = ident.MustMember("MA/GOV/ETATCIVIL")
	CommuneHQ      = ident.MustAppliance("MA/MUN/RABAT:hq")
	RegistryDC     = ident.MustAppliance("MA/GOV/ETATCIVIL:dc1")
	CivilStatus    = ident.MustService("MA/GOV/ETATCIVIL/civil-status")
	CommuneSystem  = "complaint-desk" // the local system that calls through the commune's appliance
	labPolicyLines = []string{"/citizens/", "/echo", "/sink", "/bytes", "/slow"}
	labQueryNames  = []string{"cin", "d", "headers", "n"} // the only query parameters the commune may send
)

// DefaultPolicy is the lab's bundle content: the commune may GET and POST
// the sample paths of the civil registry's civil-status service.
func DefaultPolicy(version uint64, now time.Time) *policy.Bundle {
	return &policy.Bundle{
		Version: version,
		Issued:  now,
		Expires: now.Add(30 * 24 * time.Hour),
		Members: []policy.Member{
			{ID: Commune, Name: "Commune de Rabat"},
			{ID: Registry, Name: "État civil (civil registry)"},
		},
		Appliances: []policy.Appliance{{ID: CommuneHQ}, {ID: RegistryDC}},
		Services:   []policy.Service{{ID: CivilStatus, Description: "Civil status records", OpenAPIDoc: []byte(CivilStatusOpenAPI)}},
		ConsoleRoles: []policy.ConsoleRole{
			{Role: "clerk", Member: Commune, Services: []ident.Service{CivilStatus}},
			{Role: "office-it", Member: Commune, Services: []ident.Service{CivilStatus}},
		},
		Rules: []policy.Rule{{
			Consumer: Commune, Service: CivilStatus,
			Methods: []string{"GET", "POST"}, PathPrefixes: append([]string(nil), labPolicyLines...),
			Query: append([]string(nil), labQueryNames...),
		}},
		Routes: []policy.Route{{Service: CivilStatus, Appliances: []ident.Appliance{RegistryDC}}},
	}
}

// CivilStatusOpenAPI describes the civil registry's lookup for consoles:
// a citizen's record by national number, whole or identity only.
const CivilStatusOpenAPI = `{"openapi":"3.0.3","info":{"title":"Civil status records","version":"1"},` +
	`"paths":{"/citizens/{id}":{"get":{"summary":"A citizen's civil status record","parameters":[` +
	`{"name":"id","in":"path","required":true,"description":"National number","schema":{"type":"string","pattern":"[1-9][0-9]{0,8}"}}]}}}}`

// PolicySource renders the default policy as the YAML ops would write.
func PolicySource(version uint64) string {
	return fmt.Sprintf(`version: %d
valid_for: 30d
members:
  - id: %s
    name: Commune de Rabat
  - id: %s
    name: État civil (civil registry)
appliances: [%s, %s]
services:
  - id: %s
    description: Civil status records
    openapi_doc: %s
console_roles:
  - role: clerk
    member: %s
    services: [%s]
  - role: office-it
    member: %s
    services: [%s]
rules:
  - consumer: %s
    service: %s
    methods: [GET, POST]
    paths: [/citizens/, /echo, /sink, /bytes, /slow]
    query: [cin, d, headers, n]
routes:
  - service: %s
    appliances: [%s]
`, version, Commune, Registry, CommuneHQ, RegistryDC, CivilStatus, CivilStatusOpenAPI, Commune, CivilStatus, Commune, CivilStatus, Commune, CivilStatus, CivilStatus, RegistryDC)
}
