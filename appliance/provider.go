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
	start := time.Now()
	log := &reqLog{log: a.log, subsys: "provider", id: head.ID,
		fields: []any{"service", head.Service, "consumer", head.ConsumerAppliance, "consumer_system", head.ConsumerSystem}}
	rec := a.metrics.in.For(ident.Service{}) // until the service is known to the policy
	refuse := func(code problem.Code, detail string) {
		_ = wire.WriteError(s, &wire.Error{Code: string(code), Detail: detail, Hop: "provider"})
		_ = s.Close()
		s.CancelRead(wire.CodeCanceled)
		rec.Done(string(code), time.Since(start))
		log.Info("request refused", "outcome", code, "detail", detail, "duration", time.Since(start))
	}
	svc, err := ident.ParseService(head.Service)
	if err != nil {
		refuse(problem.BadRequest, err.Error())
		return
	}
	consumer, err := ident.ParseAppliance(head.ConsumerAppliance)
	if err != nil {
		refuse(problem.BadRequest, "the exchange did not name the consumer: "+err.Error())
		return
	}
	p := a.policy.Load()
	if p == nil {
		refuse(problem.NoPolicy, "The provider's appliance has no policy yet.")
		return
	}
	if p.HasService(svc) {
		rec = a.metrics.in.For(svc)
	}
	if _, refuseAll := p.Expired(time.Now()); refuseAll {
		refuse(problem.PolicyExpired, fmt.Sprintf("The provider's policy v%d has expired.", p.Version()))
		return
	}
	if _, _, err = p.Grant(consumer.Member, svc, head.Method, head.Path, head.Purpose); err != nil {
		if errors.Is(err, policy.ErrUnknownService) {
			refuse(problem.UnknownService, err.Error())
		} else {
			refuse(problem.NotAllowed, err.Error())
		}
		return
	}
	if !routedTo(p, svc, a.id) {
		refuse(problem.NotAllowed, fmt.Sprintf("The policy does not route %s to %s.", svc, a.id))
		return
	}
	be := a.backends[svc]
	if be == nil {
		refuse(problem.NoBackend, fmt.Sprintf("%s has no backend configured for %s.", a.id, svc))
		return
	}

	timeout := be.timeout
	if head.Timeout > 0 && head.Timeout < timeout {
		timeout = head.Timeout
	}
	// The stream's context ends when the exchange stops reading the answer,
	// which is how a caller going away reaches the backend.
	rctx, cancel := context.WithTimeout(s.Context(), timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if head.ContentLength != 0 {
		body = wire.BodyReader(r, s)
	}
	req, err := http.NewRequestWithContext(rctx, head.Method, be.target(head.Path, head.Query).String(), body)
	if err != nil {
		refuse(problem.BadRequest, err.Error())
		return
	}
	fromFields(req.Header, head.Header)
	req.ContentLength = head.ContentLength
	if head.ContentLength == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Bab-Request-Id", head.ID)
	req.Header.Set("Bab-Consumer", consumer.Member.String())
	req.Header.Set("Bab-Consumer-Appliance", consumer.String())
	if head.ConsumerSystem != "" {
		req.Header.Set("Bab-Consumer-System", head.ConsumerSystem)
	}
	if head.Purpose != "" {
		req.Header.Set("Bab-Purpose", head.Purpose)
	}
	req.Header.Set("Bab-Deadline", time.Now().Add(timeout).UTC().Format(time.RFC3339Nano))

	resp, err := be.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(rctx.Err(), context.DeadlineExceeded):
			refuse(problem.Timeout, fmt.Sprintf("The backend of %s did not answer within %s.", svc, timeout))
		case rctx.Err() != nil:
			wire.Abort(s, wire.CodeCanceled)
			rec.Done(metrics.Canceled, time.Since(start))
			log.Info("caller went away before the backend answered", "outcome", metrics.Canceled, "duration", time.Since(start))
		default:
			refuse(problem.BackendUnreachable, fmt.Sprintf("The backend of %s failed: %v.", svc, err))
		}
		return
	}
	defer resp.Body.Close()
	rh := wire.ResponseHead{Status: resp.StatusCode, Header: toFields(resp.Header), ContentLength: resp.ContentLength}
	hb, err := rh.MarshalBinary()
	if err == nil {
		err = wire.WriteFrame(s, wire.FrameResponseHead, hb)
	}
	if err != nil {
		// The stream broke before the answer could start: the exchange or
		// the caller gave it up.
		wire.Abort(s, wire.ResetCode(err))
		rec.Done(metrics.Canceled, time.Since(start))
		return
	}
	n, rerr, werr := wire.Copy(s, resp.Body)
	switch {
	case werr != nil:
		cancel()
		wire.Abort(s, wire.ResetCode(werr))
		rec.Done(metrics.Canceled, time.Since(start))
		log.Info("answer abandoned by the caller", "outcome", metrics.Canceled, "bytes", n, "duration", time.Since(start))
	case rerr != nil:
		code := wire.CodeBackend
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			code = wire.CodeTimeout
		}
		wire.Abort(s, code)
		outcome := problem.BackendUnreachable
		if code == wire.CodeTimeout {
			outcome = problem.Timeout
		}
		rec.Done(string(outcome), time.Since(start))
		log.Warn("backend failed during the answer", "outcome", outcome, "bytes", n, "err", rerr, "duration", time.Since(start))
	default:
		_ = s.Close()
		s.CancelRead(wire.CodeCanceled) // whatever body the backend did not read is not wanted
		rec.Done(metrics.OK, time.Since(start))
		log.Debug("request served", "outcome", "ok", "status", resp.StatusCode, "bytes", n, "duration", time.Since(start))
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
