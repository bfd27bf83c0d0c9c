package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/babgate/bab/ident"
)

// SubjectOf says what the policy asks of svc's requests about their
// subject: whether they name one at all (takes), whether they must, and
// in which identifier schemes. The slice is the caller's.
func (p *Policy) SubjectOf(svc ident.Service) (takes, required bool, schemes []string) {
	i, ok := p.index.services[svc]
	if !ok || p.bundle.Services[i].Subject == "" {
		return false, false, nil
	}
	s := p.bundle.Services[i]
	return true, s.Subject == SubjectRequired, slices.Clone(s.SubjectSchemes)
}

// CheckSubject checks the subject a request to svc declares (the
// Bab-Subject header's value, "" when none) against the policy, at every
// hop. It returns the subject to carry on: the declared one, or "" when
// svc takes none (a subject sent anyway is dropped, as a purpose is under
// a rule that names none). It refuses, with an error matching
// ErrSubjectRequired, a missing subject that svc requires, and, matching
// ErrBadSubject, a malformed one or one of a scheme svc does not accept.
// No error repeats the identifier.
func (p *Policy) CheckSubject(svc ident.Service, declared string) (string, error) {
	takes, required, schemes := p.SubjectOf(svc)
	switch {
	case !takes:
		return "", nil
	case declared == "" && required:
		return "", fmt.Errorf("%w: %s answers only requests that name the person they are about: send Bab-Subject: SCHEME:ID, in the scheme %s",
			ErrSubjectRequired, svc, strings.Join(schemes, " or "))
	case declared == "":
		return "", nil
	}
	s, err := ident.ParseSubject(declared)
	if err != nil {
		return "", fmt.Errorf("%w: Bab-Subject: %w", ErrBadSubject, err)
	}
	if !slices.Contains(schemes, s.Scheme) {
		// The scheme is not repeated: written the wrong way round, it
		// would be the identifier.
		return "", fmt.Errorf("%w: Bab-Subject: %s accepts subjects in the scheme %s only (policy v%d)", ErrBadSubject, svc, strings.Join(schemes, " or "), p.Version())
	}
	return declared, nil
}

// ConfidentialUntil is until when the record of a request made at is held
// back from subject reports: the latest end of confidentiality of the
// rules that may have granted consumer method on svc for purpose. The
// exchange, which asks, cannot see the path, so it takes every rule that
// fits what it sees, and holds back rather than tells too early. The zero
// time means not confidential.
func (p *Policy) ConfidentialUntil(consumer ident.Member, svc ident.Service, method, purpose string, at time.Time) time.Time {
	var until time.Time
	for _, g := range p.grants[grantKey{consumer, svc}] {
		if !g.anyMethod && !slices.Contains(g.methods, method) || g.purpose != "" && g.purpose != purpose {
			continue
		}
		if g.confUntil.After(until) {
			until = g.confUntil
		}
		if g.confFor > 0 && at.Add(g.confFor).After(until) {
			until = at.Add(g.confFor)
		}
	}
	return until
}
