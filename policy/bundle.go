package policy

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/babgate/bab/ident"
)

// Bundle is the whole policy of the federation at one version. Its JSON form
// is what ops sign; appliances receive it inside a [Signed].
type Bundle struct {
	Version    uint64      `json:"version"`
	Issued     time.Time   `json:"issued"`
	Expires    time.Time   `json:"expires"`
	Members    []Member    `json:"members"`
	Appliances []Appliance `json:"appliances"`
	Services   []Service   `json:"services"`
	Rules      []Rule      `json:"rules"`
	Routes     []Route     `json:"routes"`
	// AttestIntervalSeconds is how often the exchange checks each TPM
	// appliance's boot state; 0 leaves it to the exchange's configuration.
	AttestIntervalSeconds int64 `json:"attest_interval_s,omitempty"`
	// NextTrust, when set, rotates the ops keys: the bundles after this one
	// must be signed by these keys, this many of them.
	NextTrust *TrustSpec `json:"next_trust,omitempty"`
	// OnExpiry is what appliances and the exchange do once the bundle has
	// expired and no newer one came: OnExpiryServe (the default, "")
	// keeps enforcing it in a loud degraded state, OnExpiryRefuse refuses
	// every request with policy_expired.
	OnExpiry string `json:"on_expiry,omitempty"`
	// ConsoleRoles are the clerks' roles in the console.
	ConsoleRoles []ConsoleRole `json:"console_roles,omitempty"`
}

// Member is an administration taking part in the federation.
type Member struct {
	ID   ident.Member `json:"id"`
	Name string       `json:"name"`
}

// Appliance is a Bab appliance allowed to call and be called: its name,
// bound to its key. Only the appliance holding that key is it: another
// machine enrolled under the name (re-enrolled, or in its place) is not,
// until ops sign a policy with its key.
type Appliance struct {
	ID ident.Appliance `json:"id"`
	// Key is the appliance's key as [KeyHash] writes it: the SHA-256 of
	// its public key's SubjectPublicKeyInfo (the TPM-resident key, which
	// renewals certify again), as the exchange's registry records it at
	// enrollment. A signed bundle has one for every appliance, and no key
	// twice; a policy source may leave it to policy check and sign to
	// fill from the registry.
	Key string `json:"key,omitempty"`
}

// Service is a service a member provides through its appliances.
type Service struct {
	ID          ident.Service `json:"id"`
	Description string        `json:"description,omitempty"`
	// OpenAPI is where the service's API description is published (an
	// https URL), for the developers of the systems that call it.
	OpenAPI string `json:"openapi,omitempty"`
	// OpenAPIDoc is the service's OpenAPI 3 document (JSON, at most
	// MaxOpenAPIDoc bytes), carried in the policy so that consoles build
	// their lookup forms from it: the GET operations' path and query
	// parameters, required ones, patterns and enums.
	OpenAPIDoc json.RawMessage `json:"openapi_doc,omitempty"`
	// Subject says whether a request must name the person its data is
	// about (Bab-Subject: SCHEME:ID): SubjectRequired, SubjectOptional,
	// or "" for a service that takes none (a subject sent is dropped).
	// SubjectSchemes are the identifier schemes accepted.
	Subject        string   `json:"subject,omitempty"`
	SubjectSchemes []string `json:"subject_schemes,omitempty"`
}

// Whether a service's requests name their subject (Service.Subject).
const (
	SubjectRequired = "required"
	SubjectOptional = "optional"
)

// MaxOpenAPIDoc bounds a service's OpenAPI document in the policy, which
// every appliance receives.
const MaxOpenAPIDoc = 64 << 10

// ConsoleRole says what clerks of a member with that role may do in the
// console: which services they may query (once-only lookups).
type ConsoleRole struct {
	Role     string          `json:"role"`
	Member   ident.Member    `json:"member"`
	Services []ident.Service `json:"services"`
}

// Rule lets one consumer call one service with some methods on some paths.
// Rules only grant: whatever no rule grants is refused.
type Rule struct {
	Consumer     ident.Member  `json:"consumer"`
	Service      ident.Service `json:"service"`
	Methods      []string      `json:"methods"`       // upper-case HTTP method tokens, or "*" for any
	PathPrefixes []string      `json:"path_prefixes"` // each starts with "/"; matched segment by segment
	// Query, when present (even empty), lists the only query parameters a
	// call may name; absent, any query is allowed. Both appliances check it.
	Query []string `json:"query,omitzero"`
	// Limits cap how often the consumer may call under this rule: a rate
	// (100 a minute) and/or a quota (10,000 a day). Each is enforced at
	// the consumer's appliance and, across all its appliances, at the
	// exchange.
	Limits []Limit `json:"limits,omitempty"`
	// Purpose, when set, is the only purpose for which the rule grants
	// access: callers must declare it with each request (Bab-Purpose), and
	// it is recorded in the trace.
	Purpose string `json:"purpose,omitempty"`
	// ConfidentialUntil or ConfidentialFor (seconds after each request;
	// at most one of them) hold the requests this rule grants back from
	// the exchange's subject reports until then: an investigation must
	// not be told to the person it is about while it runs.
	ConfidentialUntil time.Time `json:"confidential_until,omitzero"`
	ConfidentialFor   int64     `json:"confidential_for_s,omitempty"`
}

// Limit is at most Requests calls per PerSeconds seconds.
type Limit struct {
	Requests   int64 `json:"requests"`
	PerSeconds int64 `json:"per_s"`
}

// Route says which appliances serve a service.
type Route struct {
	Service    ident.Service     `json:"service"`
	Appliances []ident.Appliance `json:"appliances"`
}

// clone returns a deep copy, so that a compiled Policy stays immutable
// whatever its caller later does with the Bundle it compiled.
func (b *Bundle) clone() *Bundle {
	if b == nil {
		return nil
	}
	c := *b
	c.Members = slices.Clone(b.Members)
	c.Appliances = slices.Clone(b.Appliances)
	c.Services = slices.Clone(b.Services)
	for i := range c.Services {
		c.Services[i].SubjectSchemes = slices.Clone(c.Services[i].SubjectSchemes)
	}
	c.Rules = slices.Clone(b.Rules)
	for i := range c.Rules {
		c.Rules[i].Methods = slices.Clone(c.Rules[i].Methods)
		c.Rules[i].PathPrefixes = slices.Clone(c.Rules[i].PathPrefixes)
		c.Rules[i].Query = slices.Clone(c.Rules[i].Query)
		c.Rules[i].Limits = slices.Clone(c.Rules[i].Limits)
	}
	if b.NextTrust != nil {
		n := SpecOf(Trust{Threshold: b.NextTrust.Threshold})
		for _, k := range b.NextTrust.Keys {
			n.Keys = append(n.Keys, slices.Clone(k))
		}
		c.NextTrust = &n
	}
	c.ConsoleRoles = slices.Clone(b.ConsoleRoles)
	for i := range c.ConsoleRoles {
		c.ConsoleRoles[i].Services = slices.Clone(c.ConsoleRoles[i].Services)
	}
	c.Routes = slices.Clone(b.Routes)
	for i := range c.Routes {
		c.Routes[i].Appliances = slices.Clone(c.Routes[i].Appliances)
	}
	return &c
}
