package appliance

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/quic-go/quic-go"

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

// GatewayHandler is the local gateway: local systems call
// /{provider service}/{path} with any method. It authenticates the system,
// checks the policy before anything leaves the office, and streams the
// request through the tunnel and the answer back.
func (a *Appliance) GatewayHandler() http.Handler { return http.HandlerFunc(a.serveGateway) }

// newRequestID names a request in logs, traces and evidence. It need not
// be secret (every hop and the caller see it) nor unguessable (nothing is
// granted by knowing one): unique is enough. 64 bits from the runtime's
// generator (ChaCha8, seeded from the system's randomness, one per thread)
// cost no system call and take no lock.
func newRequestID() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func (a *Appliance) serveGateway(w http.ResponseWriter, r *http.Request) {
	c := a.newGatewayCall(w, r)
	if out := c.admit(); out != nil {
		c.relay(out)
	}
}

// gatewayCall is one request at the gateway, from arrival to outcome.
type gatewayCall struct {
	a     *Appliance
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
	id    string
	log   *reqLog
	rec   *metrics.ServiceRequests
	// Who called and what, for the activity view, once known.
	system, service string
	// up is the request body's upload once it started.
	up *upload
}

// closeUnlessRead asks the caller to close the connection when its body
// will not be read to the end: full duplex, net/http does not discard the
// rest by itself, and the connection cannot carry another request. A
// refusal stops the upload; an answer lets a running one go on.
func (c *gatewayCall) closeUnlessRead(refusal bool) {
	if c.up == nil || c.up.whole() || !refusal && !c.up.finished() {
		return
	}
	c.w.Header().Set("Connection", "close")
}

func (a *Appliance) newGatewayCall(w http.ResponseWriter, r *http.Request) *gatewayCall {
	id := newRequestID()
	return &gatewayCall{a: a, w: w, r: r, start: time.Now(), id: id,
		log: &reqLog{log: a.log, subsys: "gateway", id: id},
		rec: a.metrics.out.For(ident.Service{}), // until the service is known to the policy
	}
}

// fail answers with a typed problem and records the outcome: the one way
// the gateway refuses.
func (c *gatewayCall) fail(code problem.Code, hop, detail string, retry time.Duration) {
	p := problem.New(code, detail)
	p.Hop, p.RequestID = hop, c.id
	c.closeUnlessRead(true)
	problem.Write(c.w, p, retry)
	c.record(string(code))
	c.log.Info("request refused", "outcome", code, "hop", hop, "detail", detail, "duration", time.Since(c.start))
}

// outbound is an admitted request, ready to leave the office: what the
// exchange may read, and what only the provider may.
type outbound struct {
	svc     ident.Service
	route   wire.RouteHead
	inner   []byte // the sealed head's clear bytes: path, query and headers
	timeout time.Duration
	limit   int64 // the body limit, 0 for none

	// path and query as they go in the sealed head, for the evidence's
	// digest of the target.
	path, query string
}

// admit authenticates the local system and checks the signed policy
// before anything leaves the office. It answers and returns nil when the
// request may not go.
func (c *gatewayCall) admit() *outbound {
	a, r := c.a, c.r
	system := a.clients.identify(r)
	if system == "" {
		c.fail(problem.Unauthenticated, "consumer", "No valid token or client certificate was presented.", 0)
		return nil
	}
	c.log.with("consumer", system)
	c.system = system
	if reason := a.quarantine.Load(); reason != nil {
		c.fail(problem.ApplianceQuarantined, "consumer", "The exchange has this appliance in quarantine: "+*reason+".", 0)
		return nil
	}
	svc, rest, err := servicePath(r.URL)
	if err != nil {
		c.fail(problem.BadRequest, "consumer", err.Error(), 0)
		return nil
	}
	c.log.with("service", svc)
	c.service = svc.String()
	purpose, ok := c.authorise(svc, rest, r.Header.Get("Bab-Purpose"))
	if !ok {
		return nil
	}
	subject, ok := c.subject(svc)
	if !ok {
		return nil
	}
	max := a.cfg.Gateway.MaxBodyBytes
	if max > 0 && r.ContentLength > max {
		c.fail(problem.BodyTooLarge, "consumer", fmt.Sprintf("The body is %d bytes; this gateway accepts at most %d.", r.ContentLength, max), 0)
		return nil
	}
	timeout, err := a.timeout(r)
	if err != nil {
		c.fail(problem.BadRequest, "consumer", err.Error(), 0)
		return nil
	}
	out := &outbound{svc: svc, timeout: timeout, limit: max, route: wire.RouteHead{ID: c.id, Service: c.service, Method: r.Method,
		Timeout: timeout, ContentLength: r.ContentLength, ConsumerSystem: system, Purpose: purpose, Subject: subject}}
	out.path, out.query = rest, r.URL.RawQuery
	if r.Body == nil || r.Body == http.NoBody {
		out.route.ContentLength = 0
	}
	// Encoded here, as the exchange will pass them on, so that a head the
	// wire cannot carry is refused before a stream is opened.
	inner := wire.RequestHead{Path: rest, Query: r.URL.RawQuery, Header: toFields(r.Header)}
	if out.inner, err = inner.MarshalBinary(); err == nil {
		out.route.ConsumerAppliance = a.name
		_, err = out.route.MarshalBinary()
	}
	if err != nil {
		if errors.Is(err, wire.ErrHeadTooLarge) {
			c.fail(problem.HeadersTooLarge, "consumer", err.Error(), 0)
		} else {
			c.fail(problem.BadRequest, "consumer", "The request head could not be encoded: "+err.Error(), 0)
		}
		return nil
	}
	return out
}

// servicePath splits a request's path, as the caller sent it, into the
// service and the path inside it, and checks both: the service part must
// be a plain identifier (an encoded '/' cannot smuggle path into it), and
// the path inside must be clean before and after decoding, so that no
// spelling of a dot-segment or a matrix parameter (";", "%3B") reaches a
// backend that would resolve it past the policy's prefixes.
func servicePath(u *url.URL) (ident.Service, string, error) {
	svc, raw, err := ident.SplitServicePath(u.EscapedPath())
	if err != nil {
		return svc, "", err
	}
	if _, err := policy.CleanPath(raw); err != nil {
		return svc, "", err
	}
	rest, err := url.PathUnescape(raw)
	if err != nil {
		return svc, "", fmt.Errorf("%w: %v", policy.ErrBadPath, err)
	}
	if _, err := policy.CleanPath(rest); err != nil {
		return svc, "", err
	}
	return svc, rest, nil
}

// authorise checks the policy in force: may this office call svc at rest
// with this query, for purpose, within its rate limits? It returns the
// purpose to pass on: the caller's, if the granting rule asks for one.
func (c *gatewayCall) authorise(svc ident.Service, rest, purpose string) (string, bool) {
	a := c.a
	p := a.policy.Load()
	if p == nil {
		c.fail(problem.NoPolicy, "consumer", a.noPolicyDetail(), 5*time.Second)
		return "", false
	}
	if p.HasService(svc) {
		c.rec = a.metrics.out.For(svc)
	}
	if !p.HasAppliance(a.id) {
		c.fail(problem.AppliancePending, "consumer", fmt.Sprintf("%s is enrolled but not yet listed in the signed policy (v%d): it waits for central approval.", a.id, p.Version()), 0)
		return "", false
	}
	if k := a.otherKey(p); k != "" {
		c.fail(problem.ApplianceKeyMismatch, "consumer", fmt.Sprintf("The signed policy (v%d) binds %s to another key (%s) than this appliance's (%s): "+
			"it was re-enrolled or replaced since central ops approved it, and waits for them to approve its key.", p.Version(), a.id, k, a.keyHash), 0)
		return "", false
	}
	expired, refuse := p.Expired(time.Now())
	if refuse {
		c.fail(problem.PolicyExpired, "consumer", fmt.Sprintf("Policy v%d expired at %s and says to refuse requests once expired.", p.Version(), p.Expires().UTC().Format(time.RFC3339)), 0)
		return "", false
	}
	if expired {
		// Degraded but serving, as the policy chose: say so on every answer.
		c.w.Header().Set("Bab-Policy-Expired", p.Expires().UTC().Format(time.RFC3339))
	}
	rule, limits, err := p.Grant(a.id.Member, svc, c.r.Method, rest, c.r.URL.RawQuery, purpose)
	if err != nil {
		code := problem.NotAllowed
		if errors.Is(err, policy.ErrUnknownService) {
			code = problem.UnknownService
		}
		c.fail(code, "consumer", err.Error(), 0)
		return "", false
	}
	if ok, retry := a.limits.Take(ident.Member{}, p.RuleKey(rule), limits, time.Now()); !ok {
		c.fail(problem.RateLimited, "consumer", fmt.Sprintf("This appliance reached the limit of policy rule %d for %s.", rule+1, svc), retry)
		return "", false
	}
	return p.RulePurpose(rule), true
}

// relay seals the request in the session for its service, sends it
// through the tunnel and streams the answer back. A request without a body
// whose session the provider no longer knows is sent once more in a new
// one. Every goroutine it starts has ended when it returns.
func (c *gatewayCall) relay(out *outbound) {
	ctx, cancel := context.WithTimeout(c.r.Context(), out.timeout)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		x := c.send(ctx, out)
		if x == nil {
			return
		}
		if !c.exchange(ctx, x, attempt == 0 && out.route.ContentLength == 0) {
			return
		}
	}
}

// sealedCall is a request on its way: its session, number and stream,
// and this appliance's evidence of it.
type sealedCall struct {
	out  *outbound
	sess *seal.Session
	seq  uint64
	s    transport.Stream
	ev   *requestEvidence
}

// send opens the request's stream and writes its route head and sealed
// head in one write, closed at once when there is no body: a small
// request leaves in one packet. It answers and returns nil when it cannot.
func (c *gatewayCall) send(ctx context.Context, out *outbound) *sealedCall {
	sess, err := c.a.outSession(ctx, c.a.policy.Load(), out.svc)
	if err != nil {
		c.failOpen(ctx, err, "Opening a protected session with the provider")
		return nil
	}
	s, t, err := c.a.openStream(ctx)
	if err != nil {
		c.failOpen(ctx, err, "Opening a stream to the exchange")
		return nil
	}
	x := &sealedCall{out: out, sess: sess, seq: sess.Next(), s: s}
	route := out.route
	route.Provider, route.Session, route.Seq = sess.ProviderName(), sess.ID, x.seq
	b := routeFrame(make([]byte, 0, 256+len(out.inner)), &route)
	b = sess.AppendFrame(b, wire.FrameSealedHead, seal.ToProvider, x.seq, 0, false, route.AuthBytes(), out.inner)
	if _, err := s.Write(b); err != nil {
		wire.Abort(s, wire.CodeInternal)
		code, hop, detail := brokenStream(err)
		c.fail(code, hop, detail, 0)
		return nil
	}
	if out.route.ContentLength == 0 {
		// The FIN. It fails only if the exchange already stopped reading,
		// which means it answered: the answer says how.
		_ = s.Close()
	}
	// The request left: this appliance's evidence of it starts, and the
	// caller gets the salt that checks it.
	x.ev = newEvidence(c.a.outboxOf(t), evidence.Consumer, sess, &route)
	x.ev.head(&route, out.path, out.query, out.inner)
	c.w.Header().Set(SaltHeader, x.ev.salt.String())
	return x
}

// failOpen answers a request that could not get a session or a stream.
func (c *gatewayCall) failOpen(ctx context.Context, err error, what string) {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		c.fail(problem.Code(we.Code), we.Hop, we.Detail, we.RetryAfter.Duration())
	case c.a.revoked():
		c.fail(problem.ApplianceRevoked, "consumer", "The exchange refuses this appliance: central ops revoked it or enrolled another in its place.", 0)
	case errors.Is(err, tunnel.ErrNotConnected):
		c.fail(problem.ExchangeUnreachable, "consumer", "No tunnel to the exchange is up at the moment.", 5*time.Second)
	case ctx.Err() != nil:
		c.fail(problem.Timeout, "consumer", what+" did not complete in time.", 0)
	default:
		code, hop, detail := brokenStream(err)
		c.fail(code, hop, detail, 0)
	}
}

// exchange uploads the body and streams the answer back. It reports true
// when the provider did not know the session and the request may go again
// in a new one (retry says whether it may).
func (c *gatewayCall) exchange(ctx context.Context, x *sealedCall, retry bool) (again bool) {
	s := x.s
	defer x.ev.done() // after the upload stopped (deferred below), whatever the end
	// The deadline or the caller leaving ends the stream on every hop.
	stop := context.AfterFunc(ctx, func() { wire.Abort(s, ctxCode(ctx)) })
	defer stop()
	up := startUpload(c.w, c.r, s, x.sess.NewBodyWriter(s, seal.ToProvider, x.seq), x.ev.request, x.out.route.ContentLength, x.out.limit)
	defer up.stop()
	c.up = up

	rr := wire.GetReader(s)
	defer wire.PutReader(rr) // before the upload stops: it reads the caller, not rr
	rh, again := c.awaitAnswer(ctx, x, rr, up, retry)
	if rh == nil {
		return again
	}
	c.streamAnswer(x, rr, rh, stop, up)
	return false
}

// ctxCode is the stream error code for a request context that ended.
func ctxCode(ctx context.Context) quic.StreamErrorCode {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return wire.CodeTimeout
	}
	return wire.CodeCanceled
}

// awaitAnswer reads and opens the provider's response head, or answers
// with the problem that came instead and returns nil; again says the
// provider did not know the session and the request may go once more.
func (c *gatewayCall) awaitAnswer(ctx context.Context, x *sealedCall, rr *bufio.Reader, up *upload, retry bool) (rh *wire.ResponseHead, again bool) {
	ft, payload, err := wire.ReadFrame(rr, wire.MaxHead)
	if err != nil {
		c.failWaiting(ctx, err, up, x.out)
		return nil, false
	}
	switch ft {
	case wire.FrameError:
		we, err := wire.DecodeError(payload)
		if err != nil {
			c.fail(problem.Internal, "exchange", err.Error(), 0)
			return nil, false
		}
		if problem.Code(we.Code) == problem.SessionUnknown || problem.Code(we.Code) == problem.ProviderOffline {
			c.a.forget(x.out.svc, x.sess)
			if retry && problem.Code(we.Code) == problem.SessionUnknown {
				return nil, true
			}
		}
		c.fail(problem.Code(we.Code), we.Hop, we.Detail, we.RetryAfter.Duration())
	case wire.FrameSealedError:
		code, text, err := x.sess.OpenError(x.seq, payload)
		if err != nil {
			c.tampered(x.s, "the provider's refusal", err)
			return nil, false
		}
		we, err := wire.DecodeError(text)
		if err != nil || we.Code != code {
			c.tampered(x.s, "the provider's refusal", fmt.Errorf("code %q, sealed %v", code, we))
			return nil, false
		}
		x.ev.refusal(code, text)
		c.fail(problem.Code(we.Code), we.Hop, we.Detail, we.RetryAfter.Duration())
	case wire.FrameSealedHead:
		head, err := x.sess.Open(nil, seal.ToConsumer, x.seq, 0, false, nil, payload)
		var rh wire.ResponseHead
		if err == nil {
			err = rh.UnmarshalBinary(head)
		}
		if err != nil {
			c.tampered(x.s, "the answer's head", err)
			return nil, false
		}
		x.ev.answer(head)
		return &rh, false
	default:
		wire.Abort(x.s, wire.CodeProtocol)
		c.fail(problem.Internal, "exchange", fmt.Sprintf("unexpected %s frame", ft), 0)
	}
	return nil, false
}

// failWaiting answers a request whose stream failed before the answer.
func (c *gatewayCall) failWaiting(ctx context.Context, err error, up *upload, out *outbound) {
	switch {
	case up.tooLarge():
		c.fail(problem.BodyTooLarge, "consumer", fmt.Sprintf("The body exceeded the gateway limit of %d bytes.", out.limit), 0)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || wire.ResetCode(err) == wire.CodeTimeout:
		c.fail(problem.Timeout, "consumer", fmt.Sprintf("No answer within %s.", out.timeout), 0)
	case c.r.Context().Err() != nil:
		c.record(metrics.Canceled)
		c.log.Info("caller went away", "outcome", metrics.Canceled, "duration", time.Since(c.start))
	case up.readErr() != nil:
		c.fail(problem.BadRequest, "consumer", "The request body could not be read: "+up.readErr().Error(), 0)
	default:
		code, hop, detail := brokenStream(err)
		c.fail(code, hop, detail, 0)
	}
}

// tampered refuses an answer that did not open as the provider sealed
// it, and logs it: something between the appliances altered it.
func (c *gatewayCall) tampered(s transport.Stream, what string, err error) {
	wire.Abort(s, wire.CodeProtocol)
	c.log.Warn("answer refused: it was altered on the way", "what", what, "err", err)
	c.fail(problem.Tampered, "consumer", fmt.Sprintf("%s did not arrive as the provider's appliance sealed it; nothing of it was passed on.", strings.ToUpper(what[:1])+what[1:]), 0)
}

// streamAnswer passes the response on. Once the status is written the only
// honest signal left for a failure is to cut the connection, so that the
// caller sees an incomplete answer rather than a shorter success.
func (c *gatewayCall) streamAnswer(x *sealedCall, rr *bufio.Reader, rh *wire.ResponseHead, stop func() bool, up *upload) {
	s := x.s
	// The first piece opens before the status goes out: an answer that is
	// not the provider's is refused whole, not cut off after its status.
	body := x.sess.NewBodyReader(rr, seal.ToConsumer, x.seq)
	if err := body.Prime(); err != nil {
		if sealBroken(err) {
			c.tampered(s, "the answer's body", err)
			return
		}
		c.failWaiting(c.r.Context(), err, up, x.out)
		return
	}
	h := c.w.Header()
	fromFields(h, rh.Header)
	h.Set("Bab-Request-Id", c.id)
	h.Set(SaltHeader, x.ev.salt.String())
	if rh.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(rh.ContentLength, 10))
	}
	c.closeUnlessRead(false)
	c.w.WriteHeader(rh.Status)
	n, rerr, werr := copyAnswer(c.w, x.ev.response.Reader(body), rh.ContentLength)
	stop()
	switch {
	case errors.Is(rerr, seal.ErrTampered) || errors.Is(rerr, seal.ErrMalformed):
		c.cut(s, wire.CodeProtocol, string(problem.Tampered), "answer refused: it was altered on the way", "bytes", n, "err", rerr)
	case rerr != nil:
		code := wire.ResetCode(rerr)
		outcome, _, _ := brokenStream(rerr)
		if errors.Is(rerr, wire.ErrMalformed) || errors.Is(rerr, seal.ErrTruncated) {
			code, outcome = wire.CodeProtocol, problem.BadGateway
		}
		c.cut(s, code, string(outcome), "answer cut off", "bytes", n, "reset", wire.CodeName(code), "err", rerr)
	case werr != nil:
		wire.Abort(s, wire.CodeCanceled)
		c.record(metrics.Canceled)
		c.log.Info("caller went away during the answer", "outcome", metrics.Canceled, "bytes", n, "duration", time.Since(c.start))
	case up.failed():
		// The provider answered, but the caller's body broke on the way:
		// the answer is not to a request the caller sent whole.
		c.cut(s, wire.CodeCanceled, string(problem.BadRequest), "request body broke while the answer streamed", "bytes", n, "err", up.readErr())
	default:
		s.CancelRead(wire.CodeCanceled) // nothing more is expected; release the stream
		c.record(metrics.OK)
		c.log.Debug("request done", "outcome", "ok", "status", rh.Status, "bytes", n, "duration", time.Since(c.start))
	}
}

// copyAnswer copies an answer body of length bytes (-1: unknown, to the
// end of the stream). An answer whose announced bytes all arrived is
// complete even if the stream then fails: a caller that has them all may
// hang up at once, which cancels the request.
func copyAnswer(w io.Writer, body io.Reader, length int64) (n int64, rerr, werr error) {
	if length < 0 {
		return wire.Copy(w, body)
	}
	n, rerr, werr = wire.Copy(w, io.LimitReader(body, length))
	if rerr != nil || werr != nil {
		return n, rerr, werr
	}
	if n < length {
		return n, fmt.Errorf("%w: the answer ended after %d of the %d bytes it announced", wire.ErrMalformed, n, length), nil
	}
	var extra [1]byte
	if k, _ := body.Read(extra[:]); k > 0 {
		return n, fmt.Errorf("%w: the answer carried more than the %d bytes it announced", wire.ErrMalformed, length), nil
	}
	return n, nil, nil
}

// cut ends a request whose answer had already started: the stream is reset
// and the caller's connection dropped.
func (c *gatewayCall) cut(s transport.Stream, code quic.StreamErrorCode, outcome, msg string, kv ...any) {
	wire.Abort(s, code)
	c.record(outcome)
	c.log.Warn(msg, append(kv, "outcome", outcome, "duration", time.Since(c.start))...)
	panic(http.ErrAbortHandler)
}

// timeout is the request's deadline: Bab-Timeout (a Go duration such as
// "45s", or whole seconds) capped at the configured maximum, or the default.
func (a *Appliance) timeout(r *http.Request) (time.Duration, error) {
	return parseTimeout(r.Header.Get("Bab-Timeout"), a.cfg.Gateway.DefaultTimeout, a.cfg.Gateway.MaxTimeout)
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
	case wire.CodeTimeout:
		return problem.Timeout, "exchange", "The request's deadline passed on the way."
	case wire.CodeBodyTooLarge:
		return problem.BodyTooLarge, "exchange", "The body was refused as too large further along the path."
	case wire.CodeProtocol, wire.CodeInternal:
		return problem.Internal, "exchange", "The request stream was reset: " + err.Error()
	}
	return problem.ProviderOffline, "exchange", "The request was abandoned on the way to the provider: " + err.Error()
}
