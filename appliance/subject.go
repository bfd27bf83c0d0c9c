package appliance

import (
	"errors"
	"fmt"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

// subject checks the request's Bab-Subject against the policy in force:
// it returns the subject to carry in the route head ("" when the service
// takes none), or answers with the refusal. The subject never reaches the
// log: refusals name the scheme and the defect only.
func (c *gatewayCall) subject(svc ident.Service) (string, bool) {
	vals := c.r.Header.Values("Bab-Subject")
	if len(vals) > 1 {
		c.fail(problem.BadRequest, "consumer", "Bab-Subject is sent more than once: a request is about one subject.", 0)
		return "", false
	}
	declared := ""
	if len(vals) == 1 {
		declared = vals[0]
	}
	p := c.a.policy.Load()
	if p == nil {
		c.fail(problem.NoPolicy, "consumer", c.a.noPolicyDetail(), 0)
		return "", false
	}
	s, err := p.CheckSubject(svc, declared)
	if err != nil {
		c.fail(subjectProblem(err), "consumer", err.Error(), 0)
		return "", false
	}
	return s, true
}

// subjectProblem is the problem code of a subject the policy refuses.
func subjectProblem(err error) problem.Code {
	if errors.Is(err, policy.ErrSubjectRequired) {
		return problem.SubjectRequired
	}
	return problem.BadRequest
}

// checkSubject is the provider's own check of the subject the consumer
// sealed into the route head: the consumer's appliance is not trusted to
// have checked it.
func (c *providerCall) checkSubject(p *policy.Policy, svc ident.Service) (string, bool) {
	s, err := p.CheckSubject(svc, c.route.Subject)
	if err != nil {
		c.refuse(subjectProblem(err), fmt.Sprintf("The provider's policy v%d refuses the request's subject: %v", p.Version(), err))
		return "", false
	}
	return s, true
}
