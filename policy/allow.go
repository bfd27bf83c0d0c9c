package policy

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/babgate/bab/ident"
)

// Allow reports whether consumer may call svc with method on path (the path
// inside the service, as from [ident.SplitServicePath]). It returns nil if
// some rule for (consumer, svc) lists the method (or "*") and a prefix of
// the path; an error matching [ErrUnknownService] if svc is not in the
// policy; and otherwise an error matching [ErrNotAllowed], also for any path
// that [CleanPath] refuses.
//
// It runs on every request, so it does not allocate unless it refuses.
func (p *Policy) Allow(consumer ident.Member, svc ident.Service, method, path string) error {
	_, _, err := p.Grant(consumer, svc, method, path, "", "")
	return err
}

// Grant is Allow for a call with a raw query string, declared for purpose
// (empty: none declared): it says which rule granted it (its index in the
// bundle's rules) and that rule's limits, for rate limiting. A rule with a
// purpose grants only calls declared for it; a rule that lists query
// parameters grants only calls whose query names no others. Among the
// rules that fit, the first wins. Like Allow it does not allocate unless
// it refuses.
func (p *Policy) Grant(consumer ident.Member, svc ident.Service, method, path, query, purpose string) (rule int, limits []Limit, err error) {
	if _, ok := p.index.services[svc]; !ok {
		return -1, nil, fmt.Errorf("%w: %s is not in policy v%d", ErrUnknownService, name(svc.String()), p.Version())
	}
	if reason := pathDefect(path); reason != "" {
		return -1, nil, p.deny(consumer, svc, method, path, "the path "+reason)
	}
	wrongPurpose, wrongQuery := -1, -1
	for _, g := range p.grants[grantKey{consumer, svc}] {
		if !g.allows(method, path) {
			continue
		}
		if !g.allowsQuery(query) {
			if wrongQuery < 0 {
				wrongQuery = g.rule
			}
			continue
		}
		if g.purpose == "" || g.purpose == purpose {
			return g.rule, g.limits, nil
		}
		if wrongPurpose < 0 {
			wrongPurpose = g.rule
		}
	}
	if wrongPurpose >= 0 {
		return -1, nil, p.purposeError(wrongPurpose, purpose)
	}
	if wrongQuery >= 0 {
		return -1, nil, p.deny(consumer, svc, method, path, fmt.Sprintf("rule %d allows only the query parameters %s", wrongQuery+1, strings.Join(p.bundle.Rules[wrongQuery].Query, ", ")))
	}
	return -1, nil, p.deny(consumer, svc, method, path, "no rule grants it")
}

// GrantSealed is Grant for the hop that sees a request's method and
// purpose but not its path or query, which travel sealed: the exchange.
// The first rule that grants consumer the method on svc for the purpose,
// whatever the path, decides; the provider's appliance checks the path
// and query with Grant. A method of "" (a session handshake) asks whether
// any rule lets consumer call svc at all.
func (p *Policy) GrantSealed(consumer ident.Member, svc ident.Service, method, purpose string) (rule int, limits []Limit, err error) {
	if _, ok := p.index.services[svc]; !ok {
		return -1, nil, fmt.Errorf("%w: %s is not in policy v%d", ErrUnknownService, name(svc.String()), p.Version())
	}
	wrongPurpose := -1
	for _, g := range p.grants[grantKey{consumer, svc}] {
		if method == "" {
			return g.rule, nil, nil
		}
		if !g.anyMethod && !slices.Contains(g.methods, method) {
			continue
		}
		if g.purpose == "" || g.purpose == purpose {
			return g.rule, g.limits, nil
		}
		if wrongPurpose < 0 {
			wrongPurpose = g.rule
		}
	}
	if wrongPurpose >= 0 {
		return -1, nil, p.purposeError(wrongPurpose, purpose)
	}
	return -1, nil, p.deny(consumer, svc, method, "(sealed)", "no rule grants it")
}

func (g *grant) allows(method, path string) bool {
	ok := g.anyMethod
	for i := 0; !ok && i < len(g.methods); i++ {
		ok = g.methods[i] == method
	}
	if !ok {
		return false
	}
	for _, prefix := range g.prefixes {
		if matchPrefix(prefix, path) {
			return true
		}
	}
	return false
}

// allowsQuery reports whether a raw query names only parameters the rule
// lists (any query, if it lists none). A ';' is refused outright where the
// rule restricts the query: some backends split parameters on it.
func (g *grant) allowsQuery(raw string) bool {
	if g.query == nil || raw == "" {
		return true
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return false
		}
		key, _, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(key, "%+") {
			k, err := url.QueryUnescape(key)
			if err != nil {
				return false
			}
			key = k
		}
		if !slices.Contains(g.query, key) {
			return false
		}
	}
	return true
}

// RulePurpose is the purpose rule grants access for ("" for none): a
// purpose the caller declared is passed on only when its rule asks for one.
func (p *Policy) RulePurpose(rule int) string {
	if p == nil || p.bundle == nil || rule < 0 || rule >= len(p.bundle.Rules) {
		return ""
	}
	return p.bundle.Rules[rule].Purpose
}

func (p *Policy) deny(consumer ident.Member, svc ident.Service, method, path, why string) error {
	return fmt.Errorf("%w: %s may not %s %s on %s (policy v%d: %s)",
		ErrNotAllowed, name(consumer.String()), quoteCut(method), quoteCut(path), name(svc.String()), p.Version(), why)
}

// name shows an empty identifier visibly in a message.
func name(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
