package appliance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// Request serves a request that arrived through the tunnel for one of this
// office's services: check the policy again (the exchange is not trusted to
// be the only gate), forward to the configured backend, and stream the
// answer back.
func (a *Appliance) Request(ctx context.Context, s *quic.Stream, r *bufio.Reader, head *wire.RequestHead) {
	c := &providerCall{a: a, s: s, head: head, start: time.Now(),
		log: &reqLog{log: a.log, subsys: "provider", id: head.ID,
			fields: []any{"service", head.Service, "consumer", head.ConsumerAppliance, "consumer_system", head.ConsumerSystem}},
		rec: a.metrics.in.For(ident.Service{}), // until the service is known to the policy
	}
	in := c.admit()
	if in == nil {
		return
	}
	rctx, cancel := context.WithTimeout(s.Context(), in.timeout)
	defer cancel()
	resp := c.callBackend(rctx, in, r)
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	c.answer(rctx, cancel, resp)
}

// providerCall is one request at the provider's appliance.
type providerCall struct {
	a     *Appliance
	s     *quic.Stream
	head  *wire.RequestHead
	start time.Time
	log   *reqLog
	rec   *metrics.ServiceRequests
}

// inbound is an admitted request: who asks, and where it goes.
type inbound struct {
	svc      ident.Service
	consumer ident.Appliance
	be       *backend
	timeout  time.Duration
	purpose  string // declared by the caller for a rule that asks for one
}

// refuse answers with a typed problem that the caller's administration
// sees. detail must say nothing of this office's systems: what only this
// office should know goes to logDetail, into this appliance's log.
func (c *providerCall) refuse(code problem.Code, detail string, logDetail ...any) {
	_ = wire.WriteError(c.s, &wire.Error{Code: string(code), Detail: detail, Hop: "provider"})
	_ = c.s.Close()
	c.s.CancelRead(wire.CodeCanceled)
	c.record(string(code))
	c.log.Info("request refused", append([]any{"outcome", code, "detail", detail, "duration", time.Since(c.start)}, logDetail...)...)
}

// admit checks what the exchange passed on against this office's own
// policy and configuration.
func (c *providerCall) admit() *inbound {
	a, head := c.a, c.head
	svc, err := ident.ParseService(head.Service)
	if err != nil {
		c.refuse(problem.BadRequest, err.Error())
		return nil
	}
	consumer, err := ident.ParseAppliance(head.ConsumerAppliance)
	if err != nil {
		c.refuse(problem.BadRequest, "the exchange did not name the consumer: "+err.Error())
		return nil
	}
	p := a.policy.Load()
	if p == nil {
		c.refuse(problem.NoPolicy, "The provider's appliance has no valid policy yet.")
		return nil
	}
	if p.HasService(svc) {
		c.rec = a.metrics.in.For(svc)
	}
	if _, refuseAll := p.Expired(time.Now()); refuseAll {
		c.refuse(problem.PolicyExpired, fmt.Sprintf("The provider's policy v%d has expired.", p.Version()))
		return nil
	}
	// Only appliances the signed policy lists may call or be called,
	// whatever the exchange says.
	for _, ap := range []ident.Appliance{a.id, consumer} {
		if !p.HasAppliance(ap) {
			c.refuse(problem.AppliancePending, fmt.Sprintf("%s is not listed in the provider's policy v%d: it waits for central approval.", ap, p.Version()))
			return nil
		}
	}
	if k := a.otherKey(p); k != "" {
		c.refuse(problem.ApplianceKeyMismatch, fmt.Sprintf("The provider's policy v%d binds %s to another key than the provider appliance's: it waits for central ops to approve its key.", p.Version(), a.id))
		return nil
	}
	rule, _, err := p.Grant(consumer.Member, svc, head.Method, head.Path, head.Query, head.Purpose)
	if err != nil {
		code := problem.NotAllowed
		if errors.Is(err, policy.ErrUnknownService) {
			code = problem.UnknownService
		}
		c.refuse(code, err.Error())
		return nil
	}
	if !routedTo(p, svc, a.id) {
		c.refuse(problem.NotAllowed, fmt.Sprintf("The policy does not route %s to %s.", svc, a.id))
		return nil
	}
	be := a.backends[svc]
	if be == nil {
		c.refuse(problem.NoBackend, fmt.Sprintf("%s has no backend configured for %s.", a.id, svc))
		return nil
	}
	timeout := be.timeout
	if head.Timeout > 0 && head.Timeout < timeout {
		timeout = head.Timeout
	}
	return &inbound{svc: svc, consumer: consumer, be: be, timeout: timeout, purpose: p.RulePurpose(rule)}
}

// callBackend forwards the request to the backend. The context ends when
// the exchange stops reading the answer, which is how a caller going away
// reaches the backend. It answers and returns nil when the backend gave
// no answer.
func (c *providerCall) callBackend(rctx context.Context, in *inbound, r *bufio.Reader) *http.Response {
	head := c.head
	var body io.Reader = http.NoBody
	if head.ContentLength != 0 {
		body = wire.BodyReader(r, c.s)
	}
	req, err := http.NewRequestWithContext(rctx, head.Method, in.be.target(head.Path, head.Query).String(), body)
	if err != nil {
		c.refuse(problem.BadRequest, "The provider's appliance could not build the backend request.", "err", err)
		return nil
	}
	fromFields(req.Header, head.Header)
	req.ContentLength = head.ContentLength
	if head.ContentLength == 0 {
		req.Body = http.NoBody
	}
	setBabHeaders(req.Header, head, in)
	resp, err := in.be.client.Do(req)
	if err == nil {
		return resp
	}
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		c.refuse(problem.Timeout, fmt.Sprintf("The backend of %s did not answer within %s.", in.svc, in.timeout))
	case rctx.Err() != nil:
		wire.Abort(c.s, wire.CodeCanceled)
		c.record(metrics.Canceled)
		c.log.Info("caller went away before the backend answered", "outcome", metrics.Canceled, "duration", time.Since(c.start))
	default:
		// The error names the backend's address and the request's URL:
		// the provider's business, not the caller's.
		c.refuse(problem.BackendUnreachable, fmt.Sprintf("The backend of %s failed before answering; the provider's IT can find request %s in their log.", in.svc, head.ID), "err", err)
	}
	return nil
}

// setBabHeaders sets what the backend learns from Bab about the request.
func setBabHeaders(h http.Header, head *wire.RequestHead, in *inbound) {
	h.Set("Bab-Request-Id", head.ID)
	h.Set("Bab-Consumer", in.consumer.Member.String())
	h.Set("Bab-Consumer-Appliance", in.consumer.String())
	if head.ConsumerSystem != "" {
		h.Set("Bab-Consumer-System", head.ConsumerSystem)
	}
	if in.purpose != "" {
		h.Set("Bab-Purpose", in.purpose)
	}
	h.Set("Bab-Deadline", time.Now().Add(in.timeout).UTC().Format(time.RFC3339Nano))
}

// answer streams the backend's answer back through the tunnel.
func (c *providerCall) answer(rctx context.Context, cancel context.CancelFunc, resp *http.Response) {
	s := c.s
	rh := wire.ResponseHead{Status: resp.StatusCode, Header: toFields(resp.Header), ContentLength: resp.ContentLength}
	if err := wire.WriteBinary(s, wire.FrameResponseHead, &rh); err != nil {
		if errors.Is(err, wire.ErrHeadTooLarge) {
			c.refuse(problem.BadGateway, fmt.Sprintf("The backend of %s answered with more or larger headers than Bab carries.", c.head.Service), "err", err)
			return
		}
		// The stream broke before the answer could start: the exchange or
		// the caller gave it up.
		wire.Abort(s, wire.ResetCode(err))
		c.record(metrics.Canceled)
		return
	}
	n, rerr, werr := wire.Copy(s, resp.Body)
	switch {
	case werr != nil:
		cancel()
		wire.Abort(s, wire.ResetCode(werr))
		c.record(metrics.Canceled)
		c.log.Info("answer abandoned by the caller", "outcome", metrics.Canceled, "bytes", n, "duration", time.Since(c.start))
	case rerr != nil:
		code, outcome := wire.CodeBackend, problem.BackendUnreachable
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			code, outcome = wire.CodeTimeout, problem.Timeout
		}
		wire.Abort(s, code)
		c.record(string(outcome))
		c.log.Warn("backend failed during the answer", "outcome", outcome, "bytes", n, "err", rerr, "duration", time.Since(c.start))
	default:
		_ = s.Close()
		s.CancelRead(wire.CodeCanceled) // whatever body the backend did not read is not wanted
		c.record(metrics.OK)
		c.log.Debug("request served", "outcome", "ok", "status", resp.StatusCode, "bytes", n, "duration", time.Since(c.start))
	}
}

func routedTo(p *policy.Policy, svc ident.Service, a ident.Appliance) bool {
	for _, r := range p.Routes(svc) {
		if r == a {
			return true
		}
	}
	return false
}
