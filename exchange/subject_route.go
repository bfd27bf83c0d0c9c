package exchange

import (
	"errors"
	"fmt"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
)

// noteSubject traces the request's subject, when the service takes one
// and the route head names it well: its keyed hash under the current
// subject key, never the subject, and until when the rules that may have
// granted the request hold it back from subject reports. It runs before
// the request is authorised, so that a refused attempt on someone's data
// is in their report too. The check itself waits for checkSubject.
func (c *routeCall) noteSubject(p *policy.Policy, svc ident.Service) {
	head := c.head
	if head.Handshake() || head.Subject == "" {
		return
	}
	s, err := p.CheckSubject(svc, head.Subject)
	if err != nil || s == "" {
		return
	}
	c.tr.SubjectKey, c.tr.SubjectHash = c.x.subjects.hash(s)
	// Kept to the second, rounded up: never shown before its time.
	if until := p.ConfidentialUntil(c.from.id.Member, svc, head.Method, head.Purpose, c.start); !until.IsZero() {
		c.tr.ConfidentialUntil = until.Add(time.Second - 1).Truncate(time.Second).UTC()
	}
}

// checkSubject refuses a request whose subject the policy refuses: missing
// where the service requires one, malformed, or in a scheme it does not
// accept. The consumer's appliance checks this first; the exchange does
// not take its word.
func (c *routeCall) checkSubject(p *policy.Policy, svc ident.Service) bool {
	if _, err := p.CheckSubject(svc, c.head.Subject); err != nil {
		code := problem.BadRequest
		if errors.Is(err, policy.ErrSubjectRequired) {
			code = problem.SubjectRequired
		}
		c.refuse(code, fmt.Sprintf("The exchange's policy v%d refuses the request's subject: %v", p.Version(), err), 0)
		return false
	}
	return true
}
