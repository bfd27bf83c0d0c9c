package policy

import (
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
	services   map[ident.Service]struct{}
	appliances map[ident.Appliance]struct{}
	grants     map[grantKey][]grant
	routes     map[ident.Service][]ident.Appliance
	servicesOf map[ident.Appliance][]ident.Service
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
}

// Compile compiles b, which should have passed [Bundle.Validate]: Compile
// does not check it again and simply leaves out what it cannot use. Later
// changes to b do not affect the Policy. A nil b gives a Policy that allows
// nothing.
func Compile(b *Bundle) *Policy {
	p := &Policy{bundle: b.clone()}
	if p.bundle == nil {
		return p
	}
	// Sized up front: a fleet's bundle lists thousands of appliances, and
	// growing the maps step by step was most of the cost of compiling.
	p.services = make(map[ident.Service]struct{}, len(b.Services))
	p.appliances = make(map[ident.Appliance]struct{}, len(b.Appliances))
	p.grants = make(map[grantKey][]grant, len(b.Rules))
	p.routes = make(map[ident.Service][]ident.Appliance, len(b.Routes))
	p.servicesOf = make(map[ident.Appliance][]ident.Service, len(b.Routes))
	for _, s := range p.bundle.Services {
		p.services[s.ID] = struct{}{}
	}
	for _, a := range p.bundle.Appliances {
		p.appliances[a.ID] = struct{}{}
	}
	for i, r := range p.bundle.Rules {
		g := grant{rule: i, limits: r.Limits, purpose: r.Purpose, methods: r.Methods, anyMethod: slices.Contains(r.Methods, "*")}
		for _, prefix := range r.PathPrefixes {
			if pathDefect(prefix) == "" {
				g.prefixes = append(g.prefixes, prefix)
			}
		}
		k := grantKey{r.Consumer, r.Service}
		p.grants[k] = append(p.grants[k], g)
	}
	for _, r := range p.bundle.Routes {
		if _, dup := p.routes[r.Service]; dup {
			continue // Validate forbids it; the first route wins
		}
		p.routes[r.Service] = r.Appliances
		for _, a := range r.Appliances {
			p.servicesOf[a] = append(p.servicesOf[a], r.Service)
		}
	}
	return p
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
	_, ok := p.services[svc]
	return ok
}

// HasAppliance reports whether a is listed in the bundle, i.e. may connect.
func (p *Policy) HasAppliance(a ident.Appliance) bool {
	_, ok := p.appliances[a]
	return ok
}

// ServicesOf returns the services routed to a, in the bundle's order; an
// appliance uses it to know which services it must answer for. The slice is
// the caller's.
func (p *Policy) ServicesOf(a ident.Appliance) []ident.Service {
	return slices.Clone(p.servicesOf[a])
}
