package exchange

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// serveRequest handles one stream from a consumer appliance: a request
// sealed end to end, or the handshake that opens a session for such
// requests. It reads the route head (all it can read), checks the policy
// and routing, opens a stream to the provider appliance, passes the head
// on with the verified consumer, and splices the two streams.
func (x *Exchange) serveRequest(from *session, cs transport.Stream) {
	start := time.Now()
	from.requests.Add(1)
	from.active.Add(1)
	defer from.active.Add(-1)
	r := wire.GetReader(cs)
	defer wire.PutReader(r) // after the request's splice ended
	head, raw, err := readRouteHead(cs, r, start)
	if err != nil {
		from.log.Warn("bad request stream", "err", err)
		wire.Abort(cs, wire.CodeProtocol)
		x.metrics.requests.For(ident.Service{}).Done(string(problem.BadRequest), time.Since(start))
		return
	}
	c := &routeCall{x: x, from: from, cs: cs, head: head, raw: raw, start: start,
		rec: x.metrics.requests.For(ident.Service{}), // until the service is known to the policy
		tr: store.TraceEntry{ID: head.ID, At: start.UTC(), Consumer: from.name, ConsumerSystem: head.ConsumerSystem,
			Service: head.Service, Method: head.Method, Purpose: head.Purpose}}
	defer c.record()
	// A request is traced or not carried; a handshake carries nothing of
	// a request and is not traced.
	if !head.Handshake() && !c.reserveTrace() {
		return
	}
	p, svc := c.authorise()
	if p == nil {
		return
	}
	lim := x.cfg.Limits
	if !c.budget(&x.byConsumer, from.id, lim.RequestsPerAppliance, "requests_per_appliance") {
		return
	}
	defer x.byConsumer.release(from.id)
	prov := c.provider(p, svc)
	if prov == nil {
		return
	}
	pair := pairKey{from.id, prov.id}
	if !c.budget(&x.byPair, pair, lim.RequestsPerPair, "requests_per_pair") {
		return
	}
	defer x.byPair.release(pair)
	c.forward(prov, r)
}

// budget takes one of the requests in flight that limit allows for key,
// or refuses with overloaded: one office may not take the capacity every
// office shares.
func (c *routeCall) budget(f *inflight, key any, max int, limit string) bool {
	if f.acquire(key, max) {
		return true
	}
	c.x.metrics.limited.WithLabelValues(limit).Inc()
	c.refuse(problem.Overloaded, fmt.Sprintf("%s has %d requests in flight at the exchange, the most its limits.%s allows.", c.from.id, max, limit), time.Second)
	return false
}

// readRouteHead reads the head that opens a request stream; a consumer
// gets ten seconds to send it.
func readRouteHead(cs transport.Stream, r *bufio.Reader, start time.Time) (*wire.RouteHead, []byte, error) {
	_ = cs.SetReadDeadline(start.Add(10 * time.Second))
	ft, payload, err := wire.ReadFrame(r, wire.MaxHead)
	_ = cs.SetReadDeadline(time.Time{})
	if err == nil && ft != wire.FrameRoute {
		err = fmt.Errorf("%w: %s instead of route head", wire.ErrUnexpectedFrame, ft)
	}
	var head wire.RouteHead
	if err == nil {
		err = head.UnmarshalBinary(payload)
	}
	return &head, payload, err
}

// routeCall is one request at the exchange.
type routeCall struct {
	x     *Exchange
	from  *session
	cs    transport.Stream
	head  *wire.RouteHead
	raw   []byte // the route head as it came
	start time.Time
	rec   *metrics.ServiceRequests
	tr    store.TraceEntry
	// traced says the request holds a place in the trace queue, which
	// record gives back with its record.
	traced bool
}

// record counts the request and traces it; a handshake is counted as a
// session, not traced: it carries nothing of a request.
func (c *routeCall) record() {
	c.tr.Duration = time.Since(c.start)
	if c.traced {
		c.x.trace.add(c.tr)
	}
	if c.head.Handshake() {
		c.x.metrics.sessions.WithLabelValues(outcome(c.tr.Outcome)).Inc()
		return
	}
	c.rec.Done(outcome(c.tr.Outcome), c.tr.Duration)
}

// refuse answers with a typed problem: the one way the exchange refuses.
func (c *routeCall) refuse(code problem.Code, detail string, retry time.Duration) {
	c.tr.Outcome = string(code)
	_ = wire.WriteError(c.cs, &wire.Error{Code: string(code), Detail: detail, Hop: "exchange", RetryAfter: wire.ToMillis(retry)})
	_ = c.cs.Close()
	c.cs.CancelRead(wire.CodeCanceled) // the body is not wanted
}

// authorise checks the consumer appliance's standing (listed in the policy
// the exchange assigns it, attested on this connection, not quarantined)
// and the call against that policy and the member's limits.
func (c *routeCall) authorise() (*policy.Policy, ident.Service) {
	x, from, head := c.x, c.from, c.head
	p := x.policyFor(from)
	if p == nil {
		c.refuse(problem.NoPolicy, "The exchange has no policy yet.", 0)
		return nil, ident.Service{}
	}
	if _, refuseAll := p.Expired(time.Now()); refuseAll {
		c.refuse(problem.PolicyExpired, fmt.Sprintf("The exchange's policy v%d expired at %s.", p.Version(), p.Expires().UTC().Format(time.RFC3339)), 0)
		return nil, ident.Service{}
	}
	if !p.HasAppliance(from.id) {
		c.refuse(problem.AppliancePending, fmt.Sprintf("%s is enrolled but not listed in policy v%d: central ops have not approved it yet.", from.id, p.Version()), 0)
		return nil, ident.Service{}
	}
	if listed := otherKey(p, from); listed != "" {
		c.refuse(problem.ApplianceKeyMismatch, fmt.Sprintf("Policy v%d lists %s with key %s, not with the key it enrolled with (%s): "+
			"it was re-enrolled or replaced since central ops approved it. Central ops approve the new key (bab-exchange fleet approve, then sign and push).",
			p.Version(), from.id, listed, from.keyHash), 0)
		return nil, ident.Service{}
	}
	if !c.standing() {
		return nil, ident.Service{}
	}
	svc, err := ident.ParseService(head.Service)
	if err != nil {
		c.refuse(problem.BadRequest, err.Error(), 0)
		return nil, ident.Service{}
	}
	if p.HasService(svc) {
		c.rec = x.metrics.requests.For(svc)
	}
	c.noteSubject(p, svc)
	// The path and query are sealed: the provider's appliance checks them.
	rule, limits, err := p.GrantSealed(from.id.Member, svc, head.Method, head.Purpose)
	if err != nil {
		code := problem.NotAllowed
		if errors.Is(err, policy.ErrUnknownService) {
			code = problem.UnknownService
		}
		c.refuse(code, err.Error(), 0)
		return nil, ident.Service{}
	}
	// The exchange counts the member's calls across all its appliances.
	if head.Handshake() {
		return p, svc
	}
	if !c.checkSubject(p, svc) {
		return nil, ident.Service{}
	}
	if ok, retry := x.limits.Take(from.id.Member, p.RuleKey(rule), limits, time.Now()); !ok {
		c.refuse(problem.RateLimited, fmt.Sprintf("%s reached the limit of policy rule %d for %s across its appliances.", from.id.Member, rule+1, svc), retry)
		return nil, ident.Service{}
	}
	return p, svc
}

// standing refuses a consumer whose boot state is not verified on this
// connection or is not the recorded one.
func (c *routeCall) standing() bool {
	switch {
	case c.from.quarantined.Load():
		c.refuse(problem.ApplianceQuarantined, "The exchange has this appliance in quarantine: its boot state is not the recorded one.", 0)
	case !c.from.attested.Load():
		c.refuse(problem.AttestationPending, "The exchange has not yet verified this appliance's boot state since it connected.", time.Second)
	default:
		return true
	}
	return false
}

// provider is the provider appliance the request goes to: for a
// handshake, a connected one of svc's route, starting each time one further
// along it; for a request, the one whose session it is sealed in, which
// the policy must route svc to. Only appliances that are attested on their
// connection and listed in their own assigned policy are candidates.
func (c *routeCall) provider(p *policy.Policy, svc ident.Service) *session {
	x := c.x
	routes := p.Routes(svc)
	if !c.head.Handshake() {
		a, err := ident.ParseAppliance(c.head.Provider)
		if err != nil || !slices.Contains(routes, a) {
			c.refuse(problem.NotAllowed, fmt.Sprintf("The policy does not route %s to %q.", svc, c.head.Provider), 0)
			return nil
		}
		routes = []ident.Appliance{a}
	}
	first := int(x.next.Add(1))
	var otherKeys []string // connected providers the policy binds to another key
	for i := range routes {
		prov := x.session(routes[(first+i)%len(routes)])
		if prov == nil || !prov.attested.Load() {
			continue
		}
		pp := x.policyFor(prov)
		if pp == nil || !pp.HasAppliance(prov.id) {
			continue
		}
		if otherKey(pp, prov) != "" || otherKey(p, prov) != "" {
			otherKeys = append(otherKeys, prov.id.String())
			continue
		}
		c.tr.Provider = prov.name
		return prov
	}
	if len(otherKeys) > 0 {
		c.refuse(problem.ApplianceKeyMismatch, fmt.Sprintf("The policy lists %s, which serves %s, with another key than the one it enrolled with: "+
			"it was re-enrolled or replaced since central ops approved it, and serves nothing until they approve its new key.", strings.Join(otherKeys, ", "), svc), 0)
		return nil
	}
	if !c.head.Handshake() {
		c.refuse(problem.ProviderOffline, fmt.Sprintf("%s, which holds this office's session for %s, is not connected to the exchange; the next request opens a session with another.", c.head.Provider, svc), 0)
		return nil
	}
	c.refuse(problem.ProviderOffline, fmt.Sprintf("No appliance serving %s is connected to the exchange.", svc), 0)
	return nil
}

// otherKey is the key p binds to the appliance of session s when that is
// not the key s authenticated with (the registered one), or "". Only the
// machine holding the key ops approved is the appliance the policy names:
// one enrolled since under its name, with a replace token or again after
// a TPM clear, calls and is called only once ops sign its key.
func otherKey(p *policy.Policy, s *session) string {
	if k, ok := p.ApplianceKey(s.id); ok && k != s.keyHash {
		return cmp.Or(k, "none")
	}
	return ""
}

// forward opens the stream to the provider and passes the route head on
// with the verified consumer and what is left of the deadline, together
// with what already came of the request in one write, and the FIN with it
// when the consumer's stream already ended; then it splices the streams.
func (c *routeCall) forward(prov *session, r *bufio.Reader) {
	x := c.x
	timeout := c.head.Timeout
	if timeout <= 0 || timeout > x.cfg.RequestTimeoutMax {
		timeout = x.cfg.RequestTimeoutMax
	}
	deadline := c.start.Add(timeout)
	ctx, cancel := context.WithDeadline(c.cs.Context(), deadline)
	defer cancel()
	prov.active.Add(1)
	defer prov.active.Add(-1)
	ps, err := prov.conn.OpenStreamSync(ctx)
	if err != nil {
		c.refuse(problem.ProviderOffline, fmt.Sprintf("The tunnel to %s failed: %v.", prov.id, err), 0)
		return
	}
	c.head.ConsumerAppliance, c.head.Timeout = c.from.name, time.Until(deadline)
	b, err := wire.AppendForwarded(make([]byte, 0, 32+len(c.raw)+r.Buffered()), c.raw, c.head.Timeout, c.from.name)
	if err == nil {
		n := len(b)
		b = wire.AppendBuffered(b, r)
		c.tr.RequestBytes = int64(len(b) - n)
		_, err = tapped(ps).Write(b)
	}
	if err != nil {
		wire.Abort(ps, wire.CodeInternal)
		c.refuse(problem.ProviderOffline, fmt.Sprintf("Sending the request to %s failed: %v.", prov.id, err), 0)
		return
	}
	var rest io.Reader // nil: the request came whole
	if wire.Ended(r) {
		_ = ps.Close()
	} else {
		rest = c.cs
	}
	x.splice(ctx, c.cs, ps, rest, &c.tr)
}

// splice copies the rest of the request (reqBody; nil when it came whole)
// to the provider and the provider's answer back, passing resets on hop
// by hop. It returns when both directions end.
func (x *Exchange) splice(ctx context.Context, cs, ps transport.Stream, reqBody io.Reader, tr *store.TraceEntry) {
	var reset atomic.Value // first stream error code seen, for the trace
	abortBoth := func(code quic.StreamErrorCode) {
		reset.CompareAndSwap(nil, code)
		wire.Abort(cs, code)
		wire.Abort(ps, code)
	}
	// The deadline and the consumer going away both end the whole exchange.
	stop := context.AfterFunc(ctx, func() {
		code := wire.CodeCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = wire.CodeTimeout
		}
		abortBoth(code)
	})
	defer stop()
	up := upload(cs, ps, reqBody, tr)
	pr := wire.GetReader(ps)
	defer wire.PutReader(pr)
	code, ok := x.answer(cs, ps, pr, stop, tr)
	if !ok {
		abortBoth(code)
	}
	// The answer is over: whatever the consumer has not uploaded yet is
	// not wanted, and a consumer that stalls its body must not hold this
	// goroutine and both streams past the request.
	select {
	case <-up:
	default:
		cs.CancelRead(wire.CodeCanceled)
		ps.CancelWrite(wire.CodeCanceled)
		<-up
	}
	if c, ok := reset.Load().(quic.StreamErrorCode); ok && tr.Outcome == "ok" {
		tr.Outcome = "reset:" + wire.CodeName(c)
	}
}

// upload copies the rest of a request's body to the provider, if any is
// still to come, in a goroutine; the channel closes when it is done.
func upload(cs, ps transport.Stream, body io.Reader, tr *store.TraceEntry) <-chan struct{} {
	up := make(chan struct{})
	if body == nil {
		close(up)
		return up
	}
	go func() {
		defer close(up)
		n, rerr, werr := wire.Copy(tapped(ps), body)
		tr.RequestBytes += n
		switch {
		case rerr != nil:
			ps.CancelWrite(wire.ResetCode(rerr))
		case werr != nil:
			cs.CancelRead(wire.ResetCode(werr))
		default:
			_ = ps.Close()
		}
	}()
	return up
}

// answer passes the provider's answer on: its first frame, checked, in one
// write with what came after it, then the rest. It reports the code to
// reset both streams with when the answer failed before it started.
func (x *Exchange) answer(cs, ps transport.Stream, pr *bufio.Reader, stop func() bool, tr *store.TraceEntry) (quic.StreamErrorCode, bool) {
	ft, b, payload, err := wire.ReadRawFrame(make([]byte, 0, 512), pr, wire.MaxHead+seal.Overhead)
	if err == nil && !answerFrame(ft) {
		err = fmt.Errorf("%w: %s instead of response", wire.ErrUnexpectedFrame, ft)
	}
	if err != nil {
		code := wire.ResetCode(err)
		if errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrUnexpectedFrame) {
			code = wire.CodeProtocol
		}
		tr.Outcome = "reset:" + wire.CodeName(code)
		return code, false
	}
	tr.Outcome = answerOutcome(ft, payload)
	n := len(b)
	b = wire.AppendBuffered(b, pr)
	tr.ResponseBytes = int64(len(b) - n)
	if _, err := tapped(cs).Write(b); err != nil {
		return wire.ResetCode(err), false
	}
	var rerr, werr error
	if !wire.Ended(pr) {
		var n int64
		n, rerr, werr = wire.Copy(tapped(cs), ps)
		tr.ResponseBytes += n
	}
	switch {
	case rerr != nil:
		code := wire.ResetCode(rerr)
		tr.Outcome = "reset:" + wire.CodeName(code)
		cs.CancelWrite(code)
	case werr != nil:
		code := wire.ResetCode(werr)
		tr.Outcome = "reset:" + wire.CodeName(code)
		ps.CancelRead(code)
	default:
		// Closing cs cancels its context; the AfterFunc must not take that
		// for the consumer going away and reset the answer it just sent.
		stop()
		_ = cs.Close()
	}
	return 0, true
}

// answerFrame reports whether t may open a provider's answer.
func answerFrame(t wire.FrameType) bool {
	switch t {
	case wire.FrameSealedHead, wire.FrameSealReply, wire.FrameSealedError, wire.FrameError:
		return true
	}
	return false
}

// answerOutcome is what the exchange can tell of an answer for the trace:
// that it came (its status is sealed), or the refusal's code, which a
// sealed refusal carries in clear.
func answerOutcome(t wire.FrameType, payload []byte) string {
	switch t {
	case wire.FrameError:
		if we, err := wire.DecodeError(payload); err == nil {
			return we.Code
		}
		return "reset:" + wire.CodeName(wire.CodeProtocol)
	case wire.FrameSealedError:
		if code, ok := seal.ErrorCode(payload); ok {
			return code
		}
		return "reset:" + wire.CodeName(wire.CodeProtocol)
	}
	return "ok"
}
