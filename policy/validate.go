package policy

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/babgate/bab/ident"
)

// Validate checks the bundle's internal consistency and returns every
// problem found, joined, each a [*ValidationError] (all match [ErrInvalid]),
// so that ops fix a bundle in one round rather than one error at a time.
//
// It checks: version at least 1; expires after issued; unique member,
// appliance and service IDs; every appliance bound to a key written as
// [KeyHash] writes it, no key bound to two appliances; appliances and
// services belong to listed members; rules name a listed consumer and
// service, at least one valid method and at least one clean path prefix,
// and at most one end of confidentiality; a service that takes a subject
// says required or optional and lists valid schemes, once each; routes
// name a listed service, at most one route per service, and at least one
// listed appliance, each belonging to the service's provider.
func (b *Bundle) Validate() error {
	_, err := b.validate(nil, 0, false)
	return err
}

// validateDraft is Validate for a bundle read from a policy source, whose
// appliances may still lack the keys that policy check and sign fill
// from the registry: the keys it has are checked all the same.
func (b *Bundle) validateDraft() error {
	_, err := b.validate(nil, 0, true)
	return err
}

// index is a bundle's identifiers, each with its position in its list.
// A compiled policy keeps it, and shares it with the next one when those
// lists did not change (maps are never modified once built).
type index struct {
	members    map[ident.Member]int
	appliances map[ident.Appliance]int
	services   map[ident.Service]int
}

// validate is Validate for a bundle decoded over a previous one: the
// checks that read only sections in same (bytes unchanged from the bundle
// that prev indexes, which passed every check) are skipped, and prev's
// indexes of those sections are reused. It returns b's index.
func (b *Bundle) validate(prev *index, same sectionSet, draft bool) (index, error) {
	if b == nil {
		return index{}, &ValidationError{Msg: "no bundle"}
	}
	if prev == nil {
		same = 0
	}
	v := &validator{}
	if b.Version < 1 {
		v.add("version", "must be at least 1")
	}
	if s := b.AttestIntervalSeconds; s != 0 && (s < MinAttestInterval || s > MaxAttestInterval) {
		v.add("attest_interval_s", "%ds is outside %ds to %ds (10 seconds to a day)", s, MinAttestInterval, MaxAttestInterval)
	}
	if b.OnExpiry != "" && b.OnExpiry != OnExpiryServe && b.OnExpiry != OnExpiryRefuse {
		v.add("on_expiry", "is %q; write serve (keep enforcing this policy, loudly degraded) or refuse (refuse all requests)", b.OnExpiry)
	}
	if b.NextTrust != nil {
		b.NextTrust.validate(v)
	}
	if !b.Expires.After(b.Issued) {
		v.add("expires", "%s is not after issued %s", b.Expires.Format(time.RFC3339), b.Issued.Format(time.RFC3339))
	}
	var reuse index
	if same.has(secMembers) {
		reuse.members = prev.members
	}
	if same.has(secAppliances) {
		reuse.appliances = prev.appliances
	}
	if same.has(secServices) {
		reuse.services = prev.services
	}
	var idx index
	idx.members = unique(v, "member", len(b.Members), func(i int) ident.Member { return b.Members[i].ID }, nil, reuse.members)
	// An appliance or service belongs to a listed member: checked again
	// when either list changed.
	var applianceOK func(func() string, ident.Appliance)
	var serviceOK func(func() string, ident.Service)
	if !same.has(secAppliances, secMembers) {
		applianceOK = func(f func() string, a ident.Appliance) {
			if _, ok := idx.members[a.Member]; !ok {
				v.add(f(), "the appliance's member %s is not listed in members", a.Member)
			}
		}
	}
	if !same.has(secServices, secMembers) {
		serviceOK = func(f func() string, s ident.Service) {
			if _, ok := idx.members[s.Member]; !ok {
				v.add(f(), "the service's provider %s is not listed in members", s.Member)
			}
		}
	}
	idx.appliances = unique(v, "appliance", len(b.Appliances), func(i int) ident.Appliance { return b.Appliances[i].ID }, applianceOK, reuse.appliances)
	idx.services = unique(v, "service", len(b.Services), func(i int) ident.Service { return b.Services[i].ID }, serviceOK, reuse.services)
	if !same.has(secAppliances) {
		v.applianceKeys(b.Appliances, draft)
	}
	if !same.has(secServices) {
		for i, s := range b.Services {
			v.openAPIDoc(fmt.Sprintf("services[%d].openapi_doc", i), s.OpenAPIDoc)
			v.subject(i, s)
		}
	}
	if !same.has(secRules, secMembers, secServices) {
		for i, r := range b.Rules {
			v.rule(i, r, idx.members, idx.services)
		}
	}
	if !same.has(secConsoleRoles, secMembers, secServices) {
		for i, r := range b.ConsoleRoles {
			v.consoleRole(i, r, idx.members, idx.services)
		}
	}
	if !same.has(secRoutes, secServices, secAppliances) {
		routed := make(map[ident.Service]int, len(b.Routes))
		for i, r := range b.Routes {
			v.route(i, r, idx.services, idx.appliances, routed)
		}
	}
	return idx, errors.Join(v.errs...)
}

// applianceKeys checks that each appliance is bound to a well-written key
// (a draft may leave it out) and that no key is bound to two of them: a
// key proves one appliance, so one machine cannot be two appliances.
func (v *validator) applianceKeys(list []Appliance, draft bool) {
	seen := make(map[string]int, len(list))
	for i, a := range list {
		switch {
		case a.Key == "" && draft:
			continue
		case a.Key == "":
			v.add(fmt.Sprintf("appliances[%d].key", i), "%s has no key: a signed policy binds every appliance to its key "+
				"(bab-exchange policy check shows it from the registry; policy sign --registry fills it)", a.ID)
			continue
		case !ValidKeyHash(a.Key):
			v.add(fmt.Sprintf("appliances[%d].key", i), "%s is not a key as the registry writes it: sha256: and 64 lower-case hexadecimal digits", quoteCut(a.Key))
			continue
		}
		if j, dup := seen[a.Key]; dup {
			v.add(fmt.Sprintf("appliances[%d].key", i), "the key of %s is the key of %s too (appliances[%d]): one key is one appliance", a.ID, list[j].ID, j)
			continue
		}
		seen[a.Key] = i
	}
}

func (v *validator) consoleRole(i int, r ConsoleRole, members map[ident.Member]int, services map[ident.Service]int) {
	f := fmt.Sprintf("console_roles[%d]", i)
	if !validPurpose(r.Role) {
		v.add(f+".role", "%q: a role is 1 to 63 characters of a-z, 0-9 and -, such as clerk", r.Role)
	}
	if v.id(f+".member", r.Member) {
		listed(v, f+".member", members, r.Member, "member %s is not listed in members")
	}
	for j, s := range r.Services {
		if v.id(fmt.Sprintf("%s.services[%d]", f, j), s) {
			listed(v, fmt.Sprintf("%s.services[%d]", f, j), services, s, "service %s is not listed in services")
		}
	}
}

func (v *validator) rule(i int, r Rule, members map[ident.Member]int, services map[ident.Service]int) {
	f := fmt.Sprintf("rules[%d]", i)
	if v.id(f+".consumer", r.Consumer) {
		listed(v, f+".consumer", members, r.Consumer, "member %s is not listed in members")
	}
	if v.id(f+".service", r.Service) {
		listed(v, f+".service", services, r.Service, "service %s is not listed in services")
	}
	if len(r.Methods) == 0 {
		v.add(f+".methods", `must list at least one method, or "*" for any`)
	}
	for j, m := range r.Methods {
		if !validMethod(m) {
			v.add(fmt.Sprintf("%s.methods[%d]", f, j), `%q is neither an upper-case HTTP method nor "*"`, m)
		}
	}
	if len(r.PathPrefixes) == 0 {
		v.add(f+".path_prefixes", `must list at least one path prefix, or "/" for any`)
	}
	if r.Purpose != "" && !validPurpose(r.Purpose) {
		v.add(f+".purpose", "%q: a purpose is 1 to 63 characters of a-z, 0-9 and -, such as benefit-eligibility", r.Purpose)
	}
	for j, l := range r.Limits {
		if l.Requests < 1 || l.PerSeconds < 1 {
			v.add(fmt.Sprintf("%s.limits[%d]", f, j), "%d requests per %d s: both must be at least 1", l.Requests, l.PerSeconds)
		}
	}
	switch {
	case !r.ConfidentialUntil.IsZero() && r.ConfidentialFor != 0:
		v.add(f+".confidential_for_s", "give either confidential_until or confidential_for, not both")
	case r.ConfidentialFor < 0:
		v.add(f+".confidential_for_s", "%d s is negative", r.ConfidentialFor)
	}
	for j, q := range r.Query {
		if !validQueryName(q) {
			v.add(fmt.Sprintf("%s.query[%d]", f, j), "%q: a query parameter name is 1 to 64 characters, none of them & = ; # %% + or a space", q)
		}
	}
	for j, p := range r.PathPrefixes {
		if reason := pathDefect(p); reason != "" {
			v.add(fmt.Sprintf("%s.path_prefixes[%d]", f, j), "%s %s", quoteCut(p), reason)
		}
	}
}

func (v *validator) route(i int, r Route, services map[ident.Service]int, appliances map[ident.Appliance]int, routed map[ident.Service]int) {
	f := fmt.Sprintf("routes[%d]", i)
	svcOK := v.id(f+".service", r.Service) && listed(v, f+".service", services, r.Service, "service %s is not listed in services")
	if svcOK {
		if j, dup := routed[r.Service]; dup {
			v.add(f+".service", "service %s already has a route (routes[%d])", r.Service, j)
		} else {
			routed[r.Service] = i
		}
	}
	if len(r.Appliances) == 0 {
		v.add(f+".appliances", "must list at least one appliance")
	}
	seen := make(map[ident.Appliance]bool, len(r.Appliances))
	for j, a := range r.Appliances {
		fa := fmt.Sprintf("%s.appliances[%d]", f, j)
		if !v.id(fa, a) || !listed(v, fa, appliances, a, "appliance %s is not listed in appliances") {
			continue
		}
		if seen[a] {
			v.add(fa, "appliance %s is listed twice", a)
			continue
		}
		seen[a] = true
		// A provider's appliance carries only its own member's traffic, so a
		// route cannot send one member's service to another's appliance.
		if svcOK && a.Member != r.Service.Member {
			v.add(fa, "appliance %s belongs to %s, not to the service's provider %s", a, a.Member, r.Service.Member)
		}
	}
}

type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// id reports whether an identifier is set and well formed; a Bundle built in
// Go rather than decoded can hold anything.
func (v *validator) id(field string, id encoding.TextMarshaler) bool {
	if z, ok := id.(interface{ IsZero() bool }); ok && z.IsZero() {
		v.add(field, "is missing")
		return false
	}
	check := func() error { _, err := id.MarshalText(); return err }
	if c, ok := id.(interface{ Check() error }); ok {
		check = c.Check // the same verdict without building the text
	}
	if err := check(); err != nil {
		v.add(field, "%v", err)
		return false
	}
	return true
}

// listed reports whether key is in set, and otherwise adds msg (a format
// with one verb, for key).
func listed[K comparable](v *validator, field string, set map[K]int, key K, msg string) bool {
	if _, ok := set[key]; ok {
		return true
	}
	v.add(field, msg, key)
	return false
}

// validPurpose: a short token, so that it can travel in a header and be
// compared exactly.
func validPurpose(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// unique checks the n identifiers of a list ("members", "appliances", …):
// each valid and listed once. It indexes them by identifier, and calls
// then, if given, for each one that is new. Field names are formatted only
// for a finding: a fleet's bundle lists thousands of identifiers and every
// appliance validates each push. Given reuse, the index of the same list
// that already passed these checks, it only calls then and returns reuse.
func unique[K interface {
	comparable
	fmt.Stringer
	IsZero() bool
	Check() error
}](v *validator, what string, n int, id func(int) K, then func(field func() string, k K), reuse map[K]int) map[K]int {
	if reuse != nil {
		if then != nil {
			for i := range n {
				then(func() string { return fmt.Sprintf("%ss[%d].id", what, i) }, id(i))
			}
		}
		return reuse
	}
	seen := make(map[K]int, n)
	for i := range n {
		k := id(i)
		f := func() string { return fmt.Sprintf("%ss[%d].id", what, i) }
		if k.IsZero() {
			v.add(f(), "is missing")
			continue
		}
		if err := k.Check(); err != nil { // as v.id, without boxing k
			v.add(f(), "%v", err)
			continue
		}
		if j, dup := seen[k]; dup {
			v.add(f(), "duplicate %s %s (first at %ss[%d])", what, k.String(), what, j)
			continue
		}
		seen[k] = i
		if then != nil {
			then(f, k)
		}
	}
	return seen
}

// validQueryName reports whether q can be named in a rule's query list:
// compared with the caller's parameter names as decoded, so it holds no
// character that would be encoded or that splits a query.
func validQueryName(q string) bool {
	return q != "" && len(q) <= 64 && !strings.ContainsAny(q, "&=;#%+ \t\r\n")
}

// subject checks what a service says of its requests' subjects: required
// or optional with the schemes it accepts, or nothing at all.
func (v *validator) subject(i int, s Service) {
	f := fmt.Sprintf("services[%d]", i)
	switch s.Subject {
	case "":
		if len(s.SubjectSchemes) > 0 {
			v.add(f+".subject_schemes", "lists schemes, but the service takes no subject: write subject: required or optional")
		}
		return
	case SubjectRequired, SubjectOptional:
	default:
		v.add(f+".subject", "is %s; write required (every request names its subject) or optional", quoteCut(s.Subject))
	}
	if len(s.SubjectSchemes) == 0 {
		v.add(f+".subject_schemes", "must list the identifier schemes the service accepts, such as MA-CIN")
	}
	for j, sc := range s.SubjectSchemes {
		if err := ident.CheckScheme(sc); err != nil {
			v.add(fmt.Sprintf("%s.subject_schemes[%d]", f, j), "%v", err)
		} else if slices.Index(s.SubjectSchemes, sc) < j {
			v.add(fmt.Sprintf("%s.subject_schemes[%d]", f, j), "scheme %s is listed twice", sc)
		}
	}
}

// openAPIDoc checks a service's OpenAPI document: small enough to carry to
// every appliance, and an OpenAPI 3 object with paths.
func (v *validator) openAPIDoc(f string, doc json.RawMessage) {
	if doc == nil {
		return
	}
	if len(doc) > MaxOpenAPIDoc {
		v.add(f, "is %d bytes; at most %d are carried to every appliance", len(doc), MaxOpenAPIDoc)
		return
	}
	var head struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		v.add(f, "is not a JSON object: %v", err)
		return
	}
	if !strings.HasPrefix(head.OpenAPI, "3.") || head.Paths == nil {
		v.add(f, `is not an OpenAPI 3 document: it needs "openapi: 3.x" and "paths"`)
	}
}
