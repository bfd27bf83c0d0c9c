package lab

import (
	"encoding/json"
	"fmt"
	"strings"
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
	FamilyRecord   = ident.MustService("MA/GOV/ETATCIVIL/family-record") // lookups for a declared purpose only
	FamilyPurpose  = "marriage-file"
	SubjectScheme  = "MA-CIN"         // the scheme of the lab's subjects: civil status takes one, family records require one
	CommuneSystem  = "complaint-desk" // the local system that calls through the commune's appliance
	labPolicyLines = []string{"/citizens/", "/echo", "/sink", "/bytes", "/slow"}
	labQueryNames  = []string{"cin", "d", "headers", "n"} // the only query parameters the commune may send
)

// DefaultPolicy is the lab's bundle content: the commune may GET and POST
// the sample paths of the civil registry's civil-status service, and GET
// a family record for one purpose, the file of a marriage. keys binds
// each appliance to its key: the lab's exist once they enrolled, so a
// running lab passes its own (Lab.DefaultPolicy); an appliance keys lacks
// is listed without one, which cannot be signed.
func DefaultPolicy(version uint64, now time.Time, keys map[ident.Appliance]string) *policy.Bundle {
	return &policy.Bundle{
		Version: version,
		Issued:  now,
		Expires: now.Add(30 * 24 * time.Hour),
		Members: []policy.Member{
			{ID: Commune, Name: "Commune de Rabat"},
			{ID: Registry, Name: "État civil (civil registry)"},
		},
		Appliances: []policy.Appliance{{ID: CommuneHQ, Key: keys[CommuneHQ]}, {ID: RegistryDC, Key: keys[RegistryDC]}},
		Services: []policy.Service{
			{ID: CivilStatus, Description: "Civil status records", OpenAPIDoc: canonicalJSON(CivilStatusOpenAPI),
				Subject: policy.SubjectOptional, SubjectSchemes: []string{SubjectScheme}},
			{ID: FamilyRecord, Description: "Family records (livret de famille)", OpenAPIDoc: canonicalJSON(FamilyRecordOpenAPI),
				Subject: policy.SubjectRequired, SubjectSchemes: []string{SubjectScheme}},
		},
		ConsoleRoles: []policy.ConsoleRole{
			{Role: "clerk", Member: Commune, Services: []ident.Service{CivilStatus, FamilyRecord}},
			{Role: "office-it", Member: Commune, Services: []ident.Service{CivilStatus, FamilyRecord}},
		},
		Rules: []policy.Rule{{
			Consumer: Commune, Service: CivilStatus,
			Methods: []string{"GET", "POST"}, PathPrefixes: append([]string(nil), labPolicyLines...),
			Query: append([]string(nil), labQueryNames...),
		}, {
			Consumer: Commune, Service: FamilyRecord,
			Methods: []string{"GET"}, PathPrefixes: []string{"/families/"}, Query: []string{"view"}, Purpose: FamilyPurpose,
		}},
		Routes: []policy.Route{
			{Service: CivilStatus, Appliances: []ident.Appliance{RegistryDC}},
			{Service: FamilyRecord, Appliances: []ident.Appliance{RegistryDC}},
		},
	}
}

// CivilStatusOpenAPI describes the civil registry's lookup for consoles:
// a citizen's record by national number, whole or identity only.
const CivilStatusOpenAPI = `{"openapi":"3.0.3","info":{"title":"Civil status records","version":"1"},` +
	`"paths":{"/citizens/{id}":{"get":{"summary":"A citizen's civil status record","parameters":[` +
	`{"name":"id","in":"path","required":true,"description":"National number","schema":{"type":"string","pattern":"[1-9][0-9]{0,8}"}}]}}}}`

// canonicalJSON is doc as the policy source's YAML gives it (its keys
// sorted), so that a bundle built here and one signed from PolicySource
// hold the same bytes and policy check shows no change between them.
func canonicalJSON(doc string) []byte {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		panic("lab: OpenAPI document: " + err.Error())
	}
	b, _ := json.Marshal(v)
	return b
}

// FamilyRecordOpenAPI describes the family record lookup: a family by the
// national number of its holder, whole or the children only. The holder
// is the lookup's subject (x-bab-subject), which the service requires.
const FamilyRecordOpenAPI = `{"openapi":"3.0.3","info":{"title":"Family records","version":"1"},` +
	`"paths":{"/families/{holder}":{"get":{"summary":"A family record (livret de famille)","parameters":[` +
	`{"name":"holder","in":"path","required":true,"description":"National number of the holder","x-bab-subject":"MA-CIN","schema":{"type":"string","pattern":"[1-9][0-9]{0,8}"}},` +
	`{"name":"view","in":"query","required":false,"description":"What to show","schema":{"type":"string","enum":["full","children"]}}]}}}}`

// PolicySource renders the default policy as the YAML ops would write,
// each appliance with its key from keys; one keys lacks is written as its
// identifier alone, for policy check and sign to fill from the registry.
func PolicySource(version uint64, keys map[ident.Appliance]string) string {
	return fmt.Sprintf(`version: %[1]d
valid_for: 30d
members:
  - id: %[2]s
    name: Commune de Rabat
  - id: %[3]s
    name: État civil (civil registry)
appliances:
%[11]s
services:
  - id: %[5]s
    description: Civil status records
    openapi_doc: %[6]s
    subject: optional
    subject_schemes: [%[12]s]
  - id: %[7]s
    description: Family records (livret de famille)
    openapi_doc: %[8]s
    subject: required
    subject_schemes: [%[12]s]
console_roles:
  - role: clerk
    member: %[2]s
    services: [%[5]s, %[7]s]
  - role: office-it
    member: %[2]s
    services: [%[5]s, %[7]s]
rules:
  - consumer: %[2]s
    service: %[5]s
    methods: [GET, POST]
    paths: [/citizens/, /echo, /sink, /bytes, /slow]
    query: [cin, d, headers, n]
  - consumer: %[2]s
    service: %[7]s
    methods: [GET]
    paths: [/families/]
    query: [view]
    purpose: %[9]s
routes:
  - service: %[5]s
    appliances: [%[4]s]
  - service: %[7]s
    appliances: [%[4]s]
`, version, Commune, Registry, RegistryDC, CivilStatus, CivilStatusOpenAPI, FamilyRecord, FamilyRecordOpenAPI, FamilyPurpose, CommuneHQ,
		applianceEntries(keys, CommuneHQ, RegistryDC), SubjectScheme)
}

// applianceEntries writes the appliances list of a source: each with its
// key, or its identifier alone when keys lacks it.
func applianceEntries(keys map[ident.Appliance]string, ids ...ident.Appliance) string {
	var lines []string
	for _, id := range ids {
		if k := keys[id]; k != "" {
			lines = append(lines, fmt.Sprintf("  - id: %s\n    key: %s", id, k))
		} else {
			lines = append(lines, "  - "+id.String())
		}
	}
	return strings.Join(lines, "\n")
}
