package appliance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Request serves a stream the exchange opened: a consumer's session
// handshake, or a request sealed in a session for one of this office's
// services. A request is opened and checked (the session's consumer, its
// number, the seal), checked again against the policy (the exchange is
// not trusted to be the only gate), forwarded to the configured backend,
// and its answer sealed back.
func (a *Appliance) Request(ctx context.Context, s transport.Stream, r *bufio.Reader, route *wire.RouteHead) {
	if route.Handshake() {
		a.acceptSession(s, r, route)
		return
	}
	c := &providerCall{a: a, s: s, route: route, start: time.Now(), out: a.outboxOf(tunnel.FromContext(ctx)),
		log: &reqLog{log: a.log, subsys: "provider", id: route.ID,
			fields: []any{"service", route.Service, "consumer", route.ConsumerAppliance, "consumer_system", route.ConsumerSystem}},
		rec: a.metrics.in.For(ident.Service{}), // until the service is known to the policy
	}
	if c.head = c.unseal(route, r); c.head == nil {
		c.ev.done() // a request that opened and was refused still has its entry
		return
	}
	defer c.ev.done()
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
	s     transport.Stream
	route *wire.RouteHead   // as the exchange passed it on
	head  *wire.RequestHead // the whole request, once opened
	start time.Time
	log   *reqLog
	rec   *metrics.ServiceRequests
	// The session the request came in and its number in it, once the
	// request opened: from then on answers and refusals are sealed.
	sess *seal.Session
	seq  uint64
	// This appliance's evidence of the request, once it opened, and the
	// outbox of the tunnel it came on.
	ev  *requestEvidence
	out *evidence.Outbox
}

// inbound is an admitted request: who asks, and where it goes.
type inbound struct {
	svc      ident.Service
	consumer ident.Appliance
	be       *backend
	timeout  time.Duration
	purpose  string // declared by the caller for a rule that asks for one
	subject  string // the person the request is about, when the service takes one
}

// refuse answers with a typed problem that the caller's administration
// sees, sealed once the request has opened (the exchange reads its code,
// not its text). detail must say nothing of this office's systems: what
// only this office should know goes to logDetail, into this appliance's
// log.
func (c *providerCall) refuse(code problem.Code, detail string, logDetail ...any) {
	we := &wire.Error{Code: string(code), Detail: detail, Hop: "provider"}
	if c.sess != nil {
		text, _ := json.Marshal(we)
		c.ev.refusal(we.Code, text)
		_ = wire.WriteFrame(c.s, wire.FrameSealedError, c.sess.SealError(c.seq, we.Code, text))
	} else {
		_ = wire.WriteError(c.s, we)
	}
	_ = c.s.Close()
	c.s.CancelRead(wire.CodeCanceled)
	c.record(string(code))
	c.log.Info("request refused", append([]any{"outcome", code, "detail", detail, "duration", time.Since(c.start)}, logDetail...)...)
}

// tampered refuses a request that did not arrive as its consumer sealed
// it, and logs it as a warning: the exchange, or someone on the way,
// altered, replayed or redirected it.
func (c *providerCall) tampered(detail string, err error) {
	c.log.Warn("request refused: it was altered on the way", "detail", detail, "err", err)
	c.refuse(problem.Tampered, detail+" This appliance refused it and logged it.")
}

// unseal finds the session the request was sealed in and opens its head:
// the consumer is the session's (never the exchange's word), the route
// head is the one the consumer sealed, the request's number is new. It
// returns the whole request head, or refuses and returns nil.
func (c *providerCall) unseal(route *wire.RouteHead, r *bufio.Reader) *wire.RequestHead {
	a := c.a
	sess := a.inSession(route.Session)
	if p := a.policy.Load(); sess == nil || p == nil || !stillTrusted(p, sess.Consumer, sess.ConsumerKey) || time.Now().After(sess.Expires) {
		c.refuse(problem.SessionUnknown, "The provider's appliance does not know the session this request was sealed in (it restarted, or the session ended); the consumer's appliance opens a new one.")
		return nil
	}
	if route.ConsumerAppliance != sess.ConsumerName() || route.Provider != a.name {
		c.tampered(fmt.Sprintf("The request came in %s's session but was passed on as from %q to %q.", sess.Consumer, route.ConsumerAppliance, route.Provider), nil)
		return nil
	}
	_ = c.s.SetReadDeadline(time.Now().Add(10 * time.Second))
	ft, sealed, err := wire.ReadFrame(r, wire.MaxHead+seal.Overhead)
	_ = c.s.SetReadDeadline(time.Time{})
	if err == nil && ft != wire.FrameSealedHead {
		err = fmt.Errorf("%w: %s instead of the sealed head", wire.ErrUnexpectedFrame, ft)
	}
	var plain []byte
	if err == nil {
		plain, err = sess.Open(nil, seal.ToProvider, route.Seq, 0, false, route.AuthBytes(), sealed)
	}
	if err != nil {
		c.tampered("The request's head did not open as its consumer sealed it.", err)
		return nil
	}
	c.sess, c.seq = sess, route.Seq
	if err := sess.Admit(route.Seq, time.Now()); err != nil {
		c.tampered(fmt.Sprintf("Request %d of this session came a second time.", route.Seq), err)
		return nil
	}
	// The request is the consumer's, as it sealed it: this appliance's
	// evidence of it starts.
	c.ev = newEvidence(c.out, evidence.Provider, sess, route)
	c.ev.e.RequestHead = evidence.RequestHead(c.ev.salt, route.AuthBytes(), plain)
	var inner wire.RequestHead
	if err := inner.UnmarshalBinary(plain); err != nil {
		c.refuse(problem.BadRequest, "The sealed request head is malformed: "+err.Error())
		return nil
	}
	c.ev.e.Target = evidence.Target(c.ev.salt, route.Method, inner.Path, inner.Query)
	return &wire.RequestHead{ID: route.ID, Service: route.Service, Method: route.Method, Path: inner.Path, Query: inner.Query,
		Header: inner.Header, Timeout: route.Timeout, ContentLength: route.ContentLength,
		ConsumerAppliance: sess.ConsumerName(), ConsumerSystem: route.ConsumerSystem, Purpose: route.Purpose}
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
	subject, ok := c.checkSubject(p, svc)
	if !ok {
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
	return &inbound{svc: svc, consumer: consumer, be: be, timeout: timeout, purpose: p.RulePurpose(rule), subject: subject}
}

// callBackend forwards the request to the backend. The context ends when
// the exchange stops reading the answer, which is how a caller going away
// reaches the backend. It answers and returns nil when the backend gave
// no answer.
func (c *providerCall) callBackend(rctx context.Context, in *inbound, r *bufio.Reader) *http.Response {
	head := c.head
	var body io.Reader = http.NoBody
	if head.ContentLength != 0 {
		br := c.sess.NewBodyReader(r, seal.ToProvider, c.seq)
		if err := br.Prime(); err != nil {
			c.bodyFailed(rctx, err)
			return nil
		}
		body = c.ev.request.Reader(br)
	} else {
		c.ev.request.End() // an empty body, whole
	}
	req, err := c.backendRequest(rctx, in, body)
	if err != nil {
		c.refuse(problem.BadRequest, "The provider's appliance could not build the backend request.", "err", err)
		return nil
	}
	resp, err := in.be.client.Do(req)
	if err == nil {
		return resp
	}
	switch {
	case sealBroken(err):
		c.tampered("The request's body did not open as its consumer sealed it; the backend got no whole request.", err)
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

// backendRequest is the request the backend gets: the consumer's, with
// what Bab tells the backend about it.
func (c *providerCall) backendRequest(rctx context.Context, in *inbound, body io.Reader) (*http.Request, error) {
	head := c.head
	req, err := http.NewRequestWithContext(rctx, head.Method, "", body)
	if err != nil {
		return nil, err
	}
	// The URL is set as built: spelt out and parsed again it would be the
	// same, at a cost on every request.
	req.URL = in.be.target(head.Path, head.Query)
	req.Host = req.URL.Host
	fromFields(req.Header, head.Header)
	req.ContentLength = head.ContentLength
	if head.ContentLength == 0 {
		req.Body = http.NoBody
	}
	if head.ContentLength < 0 || head.ContentLength > expectAbove {
		// As curl does: a backend that refuses a large body says so before
		// it comes, rather than reset the connection while it is sent and
		// lose its answer (ExpectContinueTimeout bounds the wait).
		req.Header.Set("Expect", "100-continue")
	}
	setBabHeaders(req.Header, head, in)
	req.Header.Set(SaltHeader, c.ev.salt.String())
	return req, nil
}

// expectAbove is the body length above which the provider asks its
// backend whether it wants the body (Expect: 100-continue), as curl does.
const expectAbove = 1 << 20

// bodyFailed refuses a request whose body's first piece did not arrive
// whole and sealed for it.
func (c *providerCall) bodyFailed(rctx context.Context, err error) {
	switch {
	case sealBroken(err):
		c.tampered("The request's body did not open as its consumer sealed it; the backend was not called.", err)
	case rctx.Err() != nil:
		wire.Abort(c.s, wire.CodeCanceled)
		c.record(metrics.Canceled)
		c.log.Info("caller went away before the body came", "outcome", metrics.Canceled, "duration", time.Since(c.start))
	default:
		c.refuse(problem.BadRequest, "The request's body did not arrive: "+err.Error())
	}
}

// sealBroken reports whether err says sealed bytes were not what the other
// appliance sealed.
func sealBroken(err error) bool {
	return errors.Is(err, seal.ErrTampered) || errors.Is(err, seal.ErrTruncated) || errors.Is(err, seal.ErrMalformed)
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
	if in.subject != "" {
		h.Set("Bab-Subject", in.subject)
	}
	h.Set("Bab-Deadline", time.Now().Add(in.timeout).UTC().Format(time.RFC3339Nano))
}

// answer streams the backend's answer back through the tunnel.
func (c *providerCall) answer(rctx context.Context, cancel context.CancelFunc, resp *http.Response) {
	s := c.s
	rh := wire.ResponseHead{Status: resp.StatusCode, Header: toFields(resp.Header), ContentLength: resp.ContentLength}
	head, err := rh.MarshalBinary()
	if err != nil {
		c.refuse(problem.BadGateway, fmt.Sprintf("The backend of %s answered with more or larger headers than Bab carries.", c.head.Service), "err", err)
		return
	}
	c.ev.answer(head)
	bw := c.sess.NewBodyWriter(s, seal.ToConsumer, c.seq)
	// The head goes with the body's first piece (the consumer's appliance
	// waits for that piece anyway before the status goes out).
	bw.Lead(c.sess.AppendFrame(nil, wire.FrameSealedHead, seal.ToConsumer, c.seq, 0, false, nil, head))
	n, rerr, werr := sealAnswer(bw, c.ev.response, resp.Body)
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

// sealAnswer seals body into bw as it is read, hashing it into hash. The
// read that meets the body's end goes out with the sealed last piece, and
// net/http returns the end with the last bytes of a body of known length:
// a small answer is one write.
func sealAnswer(bw *seal.BodyWriter, hash *evidence.Body, body io.Reader) (n int64, rerr, werr error) {
	bp := wire.GetCopyBuffer()
	defer wire.PutCopyBuffer(bp)
	buf := *bp
	for {
		k, err := body.Read(buf)
		_, _ = hash.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			if werr = bw.WriteLast(buf[:k]); werr == nil {
				hash.End()
			}
			return n, nil, werr
		}
		if k > 0 {
			if _, werr = bw.Write(buf[:k]); werr != nil {
				return n, nil, werr
			}
		}
		if err != nil {
			return n, err, nil
		}
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
