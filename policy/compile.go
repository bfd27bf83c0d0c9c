package policy

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/babgate/bab/ident"
)

// Policy is a Bundle compiled for the request path: every question it
// answers is a map lookup. It is immutable and safe for concurrent use; to
// change policy, compile a new one and swap the pointer.
type Policy struct {
	bundle     *Bundle
	index      index // services and appliances answer HasService and HasAppliance
	grants     map[grantKey][]grant
	ruleKeys   []RuleKey // by rule index, for rate limiting
	routes     map[ident.Service][]ident.Appliance
	servicesOf map[ident.Appliance][]ident.Service
	// signed and payload are set when the policy came from
	// [Signed.VerifyOver]: the next bundle is told against them.
	signed  *Signed
	payload payload
}

type grantKey struct {
	consumer ident.Member
	service  ident.Service
}

// grant is one Rule. Rules for the same (consumer, service) are kept apart
// rather than merged: merging "GET /a" with "POST /b" would allow "GET /b".
type grant struct {
	rule      int // index in the bundle's rules
	limits    []Limit
	purpose   string
	anyMethod bool
	methods   []string
	prefixes  []string
	query     []string // the parameter names allowed; nil for any query
	// confUntil and confFor hold the rule's requests back from subject
	// reports (Rule.ConfidentialUntil, ConfidentialFor).
	confUntil time.Time
	confFor   time.Duration
}

// Compile compiles b, which should have passed [Bundle.Validate]: Compile
// does not check it again and simply leaves out what it cannot use. Later
// changes to b do not affect the Policy. A nil b gives a Policy that allows
// nothing.
func Compile(b *Bundle) *Policy {
	b = b.clone()
	if b == nil {
		return &Policy{}
	}
	idx := index{
		appliances: indexOf(len(b.Appliances), func(i int) ident.Appliance { return b.Appliances[i].ID }),
		services:   indexOf(len(b.Services), func(i int) ident.Service { return b.Services[i].ID }),
	}
	return compile(b, idx, nil, 0)
}

// indexOf indexes n identifiers; the first of duplicates wins.
func indexOf[K comparable](n int, id func(int) K) map[K]int {
	m := make(map[K]int, n)
	for i := range n {
		if _, dup := m[id(i)]; !dup {
			m[id(i)] = i
		}
	}
	return m
}

// compile builds a Policy over b and its index, which it takes over. The
// grants and routes of sections in same (unchanged from prev's) are
// prev's: compiled maps are never modified, so they can be shared.
func compile(b *Bundle, idx index, prev *Policy, same sectionSet) *Policy {
	p := &Policy{bundle: b, index: idx}
	if prev != nil && same.has(secRules) {
		p.grants, p.ruleKeys = prev.grants, prev.ruleKeys
	} else {
		p.grants, p.ruleKeys = compileGrants(b.Rules), ruleKeys(b.Rules)
	}
	if prev != nil && same.has(secRoutes) {
		p.routes, p.servicesOf = prev.routes, prev.servicesOf
	} else {
		p.routes, p.servicesOf = compileRoutes(b.Routes)
	}
	return p
}

func compileGrants(rules []Rule) map[grantKey][]grant {
	grants := make(map[grantKey][]grant, len(rules))
	for i, r := range rules {
		g := grant{rule: i, limits: r.Limits, purpose: r.Purpose, methods: r.Methods, anyMethod: slices.Contains(r.Methods, "*"), query: r.Query,
			confUntil: r.ConfidentialUntil, confFor: time.Duration(r.ConfidentialFor) * time.Second}
		for _, prefix := range r.PathPrefixes {
			if pathDefect(prefix) == "" {
				g.prefixes = append(g.prefixes, prefix)
			}
		}
		k := grantKey{r.Consumer, r.Service}
		grants[k] = append(grants[k], g)
	}
	return grants
}

func compileRoutes(list []Route) (routes map[ident.Service][]ident.Appliance, servicesOf map[ident.Appliance][]ident.Service) {
	routes = make(map[ident.Service][]ident.Appliance, len(list))
	servicesOf = make(map[ident.Appliance][]ident.Service, len(list))
	for _, r := range list {
		if _, dup := routes[r.Service]; dup {
			continue // Validate forbids it; the first route wins
		}
		routes[r.Service] = r.Appliances
		for _, a := range r.Appliances {
			servicesOf[a] = append(servicesOf[a], r.Service)
		}
	}
	return routes, servicesOf
}

// Signed returns the signed bundle p was verified from, or nil if p was
// compiled from a Bundle. It must not be modified.
func (p *Policy) Signed() *Signed { return p.signed }

// SamePayload reports whether s carries the very bundle p was verified
// from (whoever signed it): a bundle delivered again needs no work.
func (p *Policy) SamePayload(s *Signed) bool {
	return p != nil && p.signed != nil && s != nil && bytes.Equal(p.signed.Payload, s.Payload)
}

// After is the trust in force once p is: the one its bundle announces,
// or cur that verified it.
func (p *Policy) After(cur Trust) Trust {
	if p.bundle == nil {
		return cur
	}
	return p.bundle.After(cur)
}

// Rotates reports whether p's bundle announces new ops keys.
func (p *Policy) Rotates() bool { return p.bundle != nil && p.bundle.NextTrust != nil }

// RouteTable returns every route: service to the appliances serving it,
// in the bundle's order. The map and slices are the caller's.
func (p *Policy) RouteTable() map[ident.Service][]ident.Appliance {
	out := make(map[ident.Service][]ident.Appliance, len(p.routes))
	for svc, apps := range p.routes {
		out[svc] = slices.Clone(apps)
	}
	return out
}

// Bundle returns a copy of the bundle p was compiled from (nil if none).
func (p *Policy) Bundle() *Bundle { return p.bundle.clone() }

// Version returns the bundle's version, 0 if none.
func (p *Policy) Version() uint64 {
	if p.bundle == nil {
		return 0
	}
	return p.bundle.Version
}

// Expires returns when the bundle stops being valid.
func (p *Policy) Expires() time.Time {
	if p.bundle == nil {
		return time.Time{}
	}
	return p.bundle.Expires
}

// Expired reports whether the bundle has expired at now and, if so,
// whether requests must then be refused (on_expiry: refuse) rather than
// served in a degraded state.
func (p *Policy) Expired(now time.Time) (expired, refuse bool) {
	if p.bundle == nil || now.Before(p.bundle.Expires) {
		return false, false
	}
	return true, p.bundle.OnExpiry == OnExpiryRefuse
}

// purposeError explains why a call that fits rule's methods and paths was
// refused for its declared purpose.
func (p *Policy) purposeError(rule int, declared string) error {
	want := p.bundle.Rules[rule].Purpose
	if declared == "" {
		return fmt.Errorf("%w: this access is granted only for the purpose %q; declare it with the header Bab-Purpose: %s", ErrNotAllowed, want, want)
	}
	return fmt.Errorf("%w: this access is granted only for the purpose %q, not %q", ErrNotAllowed, want, declared)
}

// AttestInterval is how often the exchange checks TPM appliances under
// this policy, or 0 when the policy leaves it to the exchange.
func (p *Policy) AttestInterval() time.Duration {
	if p.bundle == nil {
		return 0
	}
	return time.Duration(p.bundle.AttestIntervalSeconds) * time.Second
}

// Routes returns the appliances serving svc, in the bundle's order, or nil
// if it has no route. The slice is the caller's.
func (p *Policy) Routes(svc ident.Service) []ident.Appliance {
	return slices.Clone(p.routes[svc])
}

// HasService reports whether svc is listed in the bundle.
func (p *Policy) HasService(svc ident.Service) bool {
	_, ok := p.index.services[svc]
	return ok
}

// HasAppliance reports whether a is listed in the bundle, i.e. may connect.
func (p *Policy) HasAppliance(a ident.Appliance) bool {
	_, ok := p.index.appliances[a]
	return ok
}

// ServicesOf returns the services routed to a, in the bundle's order; an
// appliance uses it to know which services it must answer for. The slice is
// the caller's.
func (p *Policy) ServicesOf(a ident.Appliance) []ident.Service {
	return slices.Clone(p.servicesOf[a])
}
