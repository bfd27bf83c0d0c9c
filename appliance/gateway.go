package appliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// GatewayHandler is the local gateway: local systems call
// /{provider service}/{path} with any method. It authenticates the system,
// checks the policy before anything leaves the office, and streams the
// request through the tunnel and the answer back.
func (a *Appliance) GatewayHandler() http.Handler { return http.HandlerFunc(a.serveGateway) }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (a *Appliance) serveGateway(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	log := &reqLog{log: a.log, subsys: "gateway", id: id}
	rec := a.metrics.out.For(ident.Service{}) // until the service is known to the policy
	fail := func(code problem.Code, hop, detail string, retry time.Duration) {
		p := problem.New(code, detail)
		p.Hop, p.RequestID = hop, id
		problem.Write(w, p, retry)
		rec.Done(string(code), time.Since(start))
		log.Info("request refused", "outcome", code, "hop", hop, "detail", detail, "duration", time.Since(start))
	}

	system := a.clients.identify(r)
	if system == "" {
		fail(problem.Unauthenticated, "consumer", "No valid token or client certificate was presented.", 0)
		return
	}
	log.with("consumer", system)
	if reason := a.quarantine.Load(); reason != nil {
		fail(problem.ApplianceQuarantined, "consumer", "The exchange has this appliance in quarantine: "+*reason+".", 0)
		return
	}
	svc, rest, err := ident.SplitServicePath(r.URL.Path)
	if err != nil {
		fail(problem.BadRequest, "consumer", err.Error(), 0)
		return
	}
	if rest, err = policy.CleanPath(rest); err != nil {
		fail(problem.BadRequest, "consumer", err.Error(), 0)
		return
	}
	log.with("service", svc)
	p := a.policy.Load()
	if p == nil {
		fail(problem.NoPolicy, "consumer", "This appliance has not received a policy from the exchange yet.", 5*time.Second)
		return
	}
	if p.HasService(svc) {
		rec = a.metrics.out.For(svc)
	}
	expired, refuse := p.Expired(time.Now())
	if refuse {
		fail(problem.PolicyExpired, "consumer", fmt.Sprintf("Policy v%d expired at %s and says to refuse requests once expired.", p.Version(), p.Expires().UTC().Format(time.RFC3339)), 0)
		return
	}
	if expired {
		// Degraded but serving, as the policy chose: say so on every answer.
		w.Header().Set("Bab-Policy-Expired", p.Expires().UTC().Format(time.RFC3339))
	}
	purpose := r.Header.Get("Bab-Purpose")
	rule, limits, err := p.Grant(a.id.Member, svc, r.Method, rest, purpose)
	if err != nil {
		if errors.Is(err, policy.ErrUnknownService) {
			fail(problem.UnknownService, "consumer", err.Error(), 0)
		} else {
			fail(problem.NotAllowed, "consumer", err.Error(), 0)
		}
		return
	}
	if ok, retry := a.limits.Take(p.Version(), "", rule, limits, time.Now()); !ok {
		fail(problem.RateLimited, "consumer", fmt.Sprintf("This appliance reached the limit of policy rule %d for %s.", rule+1, svc), retry)
		return
	}
	max := a.cfg.Gateway.MaxBodyBytes
	if max > 0 && r.ContentLength > max {
		fail(problem.BodyTooLarge, "consumer", fmt.Sprintf("The body is %d bytes; this gateway accepts at most %d.", r.ContentLength, max), 0)
		return
	}
	timeout, err := a.timeout(r)
	if err != nil {
		fail(problem.BadRequest, "consumer", err.Error(), 0)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	s, err := a.openStream(ctx)
	if err != nil {
		if errors.Is(err, tunnel.ErrNotConnected) {
			fail(problem.ExchangeUnreachable, "consumer", "No tunnel to the exchange is up at the moment.", 5*time.Second)
		} else {
			fail(problem.Timeout, "consumer", "Opening a stream to the exchange did not complete in time.", 0)
		}
		return
	}
	head := wire.RequestHead{ID: id, Service: svc.String(), Method: r.Method, Path: rest, Query: r.URL.RawQuery,
		Header: toFields(r.Header), Timeout: timeout, ContentLength: r.ContentLength, ConsumerSystem: system, Purpose: purpose}
	if r.Body == nil || r.Body == http.NoBody {
		head.ContentLength = 0
	}
	hb, err := head.MarshalBinary()
	if err == nil {
		err = wire.WriteFrame(s, wire.FrameRequestHead, hb)
	}
	if err != nil {
		wire.Abort(s, wire.CodeInternal)
		fail(problem.BadRequest, "consumer", "The request head could not be sent: "+err.Error(), 0)
		return
	}

	// The deadline or the caller leaving ends the stream on every hop.
	var why atomic.Int32 // a problem code index set by whoever aborts first
	stop := context.AfterFunc(ctx, func() {
		code := wire.CodeCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = wire.CodeTimeout
		}
		wire.Abort(s, code)
	})
	defer stop()

	// Upload the body while the answer is awaited: the provider may answer
	// before it has read everything.
	go func() {
		if head.ContentLength == 0 {
			_ = s.Close()
			return
		}
		body := io.Reader(r.Body)
		if max > 0 {
			body = &limitReader{r: r.Body, left: max}
		}
		_, rerr, werr := wire.Copy(s, body)
		switch {
		case errors.Is(rerr, errBodyTooLarge):
			why.Store(1)
			wire.Abort(s, wire.CodeBodyTooLarge)
		case rerr != nil:
			s.CancelWrite(wire.CodeCanceled)
		case werr != nil:
			// The stream was reset; the reader below reports why.
		default:
			_ = s.Close()
		}
	}()

	rr := wire.NewReader(s)
	ft, payload, err := wire.ReadFrame(rr, wire.MaxHead)
	if err != nil {
		switch {
		case why.Load() == 1:
			fail(problem.BodyTooLarge, "consumer", fmt.Sprintf("The body exceeded the gateway limit of %d bytes.", max), 0)
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || wire.ResetCode(err) == wire.CodeTimeout:
			fail(problem.Timeout, "consumer", fmt.Sprintf("No answer within %s.", timeout), 0)
		case r.Context().Err() != nil:
			rec.Done(metrics.Canceled, time.Since(start))
			log.Info("caller went away", "outcome", metrics.Canceled, "duration", time.Since(start))
		default:
			code, hop, detail := brokenStream(err)
			fail(code, hop, detail, 0)
		}
		return
	}
	switch ft {
	case wire.FrameError:
		we, err := wire.DecodeError(payload)
		if err != nil {
			fail(problem.Internal, "exchange", err.Error(), 0)
			return
		}
		fail(problem.Code(we.Code), we.Hop, we.Detail, we.RetryAfter.Duration())
		return
	case wire.FrameResponseHead:
	default:
		wire.Abort(s, wire.CodeProtocol)
		fail(problem.Internal, "exchange", fmt.Sprintf("unexpected %s frame", ft), 0)
		return
	}
	var rh wire.ResponseHead
	if err := rh.UnmarshalBinary(payload); err != nil {
		wire.Abort(s, wire.CodeProtocol)
		fail(problem.Internal, "exchange", err.Error(), 0)
		return
	}
	h := w.Header()
	fromFields(h, rh.Header)
	h.Set("Bab-Request-Id", id)
	if rh.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(rh.ContentLength, 10))
	}
	w.WriteHeader(rh.Status)
	n, rerr, werr := wire.Copy(w, wire.BodyReader(rr, s))
	stop()
	switch {
	case rerr != nil:
		// The answer broke after it started: the only honest signal left
		// to the caller is to cut the connection, so the response is seen
		// as incomplete rather than as a shorter success.
		code, _, _ := brokenStream(rerr)
		rec.Done(string(code), time.Since(start))
		log.Warn("answer cut off", "outcome", code, "bytes", n, "reset", wire.CodeName(wire.ResetCode(rerr)), "duration", time.Since(start))
		wire.Abort(s, wire.ResetCode(rerr))
		panic(http.ErrAbortHandler)
	case werr != nil:
		wire.Abort(s, wire.CodeCanceled)
		rec.Done(metrics.Canceled, time.Since(start))
		log.Info("caller went away during the answer", "outcome", metrics.Canceled, "bytes", n, "duration", time.Since(start))
		return
	}
	s.CancelRead(wire.CodeCanceled) // nothing more is expected; release the stream
	rec.Done(metrics.OK, time.Since(start))
	log.Debug("request done", "outcome", "ok", "status", rh.Status, "bytes", n, "duration", time.Since(start))
}

// timeout is the request's deadline: Bab-Timeout (a Go duration such as
// "45s", or whole seconds) capped at the configured maximum, or the default.
func (a *Appliance) timeout(r *http.Request) (time.Duration, error) {
	return parseTimeout(r.Header.Get("Bab-Timeout"), a.cfg.Gateway.DefaultTimeout, a.cfg.Gateway.MaxTimeout)
}

var errBodyTooLarge = errors.New("request body exceeds the gateway limit")

// limitReader fails once more than left bytes were read, so that a body
// without Content-Length is refused when it grows too large.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}

// brokenStream says what a request stream that failed before its answer
// means for the caller.
func brokenStream(err error) (problem.Code, string, string) {
	if wire.ConnectionLost(err) {
		return problem.ExchangeUnreachable, "consumer", "The tunnel to the exchange broke during the request; it is being re-established."
	}
	switch wire.ResetCode(err) {
	case wire.CodeTunnelLost:
		return problem.ProviderOffline, "exchange", "The provider's appliance disconnected during the request."
	case wire.CodeBackend:
		return problem.BackendUnreachable, "provider", "The provider's backend failed during the request."
	case wire.CodeBodyTooLarge:
		return problem.BodyTooLarge, "exchange", "The body was refused as too large further along the path."
	case wire.CodeProtocol, wire.CodeInternal:
		return problem.Internal, "exchange", "The request stream was reset: " + err.Error()
	}
	return problem.ProviderOffline, "exchange", "The request was abandoned on the way to the provider: " + err.Error()
}
