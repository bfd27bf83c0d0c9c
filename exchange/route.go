package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// serveRequest handles one request stream from a consumer appliance: check
// the policy and routing, open a stream to the provider appliance, pass on
// the head with the verified consumer, and splice the two streams.
func (x *Exchange) serveRequest(from *session, cs *quic.Stream) {
	start := time.Now()
	from.requests.Add(1)
	r := wire.NewReader(cs)
	_ = cs.SetReadDeadline(start.Add(10 * time.Second))
	ft, payload, err := wire.ReadFrame(r, wire.MaxHead)
	_ = cs.SetReadDeadline(time.Time{})
	var head wire.RequestHead
	if err == nil && ft != wire.FrameRequestHead {
		err = fmt.Errorf("%w: %s instead of request head", wire.ErrUnexpectedFrame, ft)
	}
	if err == nil {
		err = head.UnmarshalBinary(payload)
	}
	if err != nil {
		from.log.Warn("bad request stream", "err", err)
		wire.Abort(cs, wire.CodeProtocol)
		x.metrics.requests.For(ident.Service{}).Done(string(problem.BadRequest), time.Since(start))
		return
	}
	rec := x.metrics.requests.For(ident.Service{}) // until the service is known to the policy
	tr := store.TraceEntry{ID: head.ID, At: start.UTC(), Consumer: from.id.String(), ConsumerSystem: head.ConsumerSystem,
		Service: head.Service, Method: head.Method, Path: head.Path, Purpose: head.Purpose}
	defer func() {
		tr.Duration = time.Since(start)
		x.trace.add(tr)
		rec.Done(outcome(tr.Outcome), tr.Duration)
	}()
	refuse := func(code problem.Code, detail string) {
		tr.Outcome = string(code)
		_ = wire.WriteError(cs, &wire.Error{Code: string(code), Detail: detail, Hop: "exchange"})
		_ = cs.Close()
		cs.CancelRead(wire.CodeCanceled) // the body is not wanted
	}

	if from.quarantined.Load() {
		refuse(problem.ApplianceQuarantined, "The exchange has this appliance in quarantine: its boot state is not the recorded one.")
		return
	}
	p := x.policyFor(from)
	if p == nil {
		refuse(problem.NoPolicy, "The exchange has no policy yet.")
		return
	}
	if _, refuseAll := p.Expired(time.Now()); refuseAll {
		refuse(problem.PolicyExpired, fmt.Sprintf("The exchange's policy v%d expired at %s.", p.Version(), p.Expires().UTC().Format(time.RFC3339)))
		return
	}
	svc, err := ident.ParseService(head.Service)
	if err != nil {
		refuse(problem.BadRequest, err.Error())
		return
	}
	if p.HasService(svc) {
		rec = x.metrics.requests.For(svc)
	}
	rule, limits, err := p.Grant(from.id.Member, svc, head.Method, head.Path, head.Query, head.Purpose)
	if err != nil {
		if errors.Is(err, policy.ErrUnknownService) {
			refuse(problem.UnknownService, err.Error())
		} else {
			refuse(problem.NotAllowed, err.Error())
		}
		return
	}
	// The exchange counts the member's calls across all its appliances.
	if ok, retry := x.limits.Take(from.id.Member, p.RuleKey(rule), limits, time.Now()); !ok {
		tr.Outcome = string(problem.RateLimited)
		_ = wire.WriteError(cs, &wire.Error{Code: string(problem.RateLimited), Hop: "exchange", RetryAfter: wire.ToMillis(retry),
			Detail: fmt.Sprintf("%s reached the limit of policy rule %d for %s across its appliances.", from.id.Member, rule+1, svc)})
		_ = cs.Close()
		cs.CancelRead(wire.CodeCanceled)
		return
	}
	// Spread requests over the service's connected provider appliances,
	// starting each time one further along the route.
	var prov *session
	routes := p.Routes(svc)
	first := int(x.next.Add(1))
	for i := range routes {
		if prov = x.session(routes[(first+i)%len(routes)]); prov != nil {
			break
		}
	}
	if prov == nil {
		refuse(problem.ProviderOffline, fmt.Sprintf("No appliance serving %s is connected to the exchange.", svc))
		return
	}
	tr.Provider = prov.id.String()

	timeout := head.Timeout
	if timeout <= 0 || timeout > x.cfg.RequestTimeoutMax {
		timeout = x.cfg.RequestTimeoutMax
	}
	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(cs.Context(), deadline)
	defer cancel()
	ps, err := prov.conn.OpenStreamSync(ctx)
	if err != nil {
		refuse(problem.ProviderOffline, fmt.Sprintf("The tunnel to %s failed: %v.", prov.id, err))
		return
	}
	head.ConsumerAppliance = from.id.String()
	head.Timeout = time.Until(deadline)
	hb, err := head.MarshalBinary()
	if err == nil {
		err = wire.WriteFrame(ps, wire.FrameRequestHead, hb)
	}
	if err != nil {
		wire.Abort(ps, wire.CodeInternal)
		refuse(problem.ProviderOffline, fmt.Sprintf("Sending the request to %s failed: %v.", prov.id, err))
		return
	}
	x.splice(ctx, cs, ps, wire.BodyReader(r, cs), &tr)
}

// splice copies the request body to the provider and the provider's answer
// back, passing resets on hop by hop. It returns when both directions end.
func (x *Exchange) splice(ctx context.Context, cs, ps *quic.Stream, reqBody interface{ Read([]byte) (int, error) }, tr *store.TraceEntry) {
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

	up := make(chan struct{})
	go func() {
		defer close(up)
		n, rerr, werr := wire.Copy(ps, reqBody)
		tr.RequestBytes = n
		switch {
		case rerr != nil:
			ps.CancelWrite(wire.ResetCode(rerr))
		case werr != nil:
			cs.CancelRead(wire.ResetCode(werr))
		default:
			_ = ps.Close()
		}
	}()

	pr := wire.NewReader(ps)
	ft, payload, err := wire.ReadFrame(pr, wire.MaxHead)
	if err == nil && ft != wire.FrameResponseHead && ft != wire.FrameError {
		err = fmt.Errorf("%w: %s instead of response", wire.ErrUnexpectedFrame, ft)
	}
	if err != nil {
		code := wire.ResetCode(err)
		if errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrUnexpectedFrame) {
			code = wire.CodeProtocol
		}
		tr.Outcome = "reset:" + wire.CodeName(code)
		abortBoth(code)
		<-up
		return
	}
	if ft == wire.FrameError {
		if we, derr := wire.DecodeError(payload); derr == nil {
			tr.Outcome = we.Code
		}
	} else {
		var rh wire.ResponseHead
		if rh.UnmarshalBinary(payload) == nil {
			tr.Status = rh.Status
			tr.Outcome = "ok"
		}
	}
	if err := wire.WriteFrame(cs, ft, payload); err != nil {
		abortBoth(wire.ResetCode(err))
		<-up
		return
	}
	n, rerr, werr := wire.Copy(cs, wire.BodyReader(pr, ps))
	tr.ResponseBytes = n
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
