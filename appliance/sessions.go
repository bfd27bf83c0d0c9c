package appliance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// The appliance's end-to-end sessions (package seal): as a consumer, the
// session each service's requests are sealed in, opened on first use and
// renewed before it expires; as a provider, the sessions consumers opened
// with it. Keys live in memory only: a restart forgets them, and the next
// request opens a new session.
type sessions struct {
	mu      sync.RWMutex // read by every request, written by handshakes
	out     map[ident.Service]*seal.Session
	flights map[ident.Service]*flight
	in      map[[wire.SessionIDLen]byte]*seal.Session
}

// maps makes the maps on first use, so that the zero value works; the
// caller holds mu.
func (ss *sessions) maps() {
	if ss.out == nil {
		ss.out = map[ident.Service]*seal.Session{}
		ss.flights = map[ident.Service]*flight{}
		ss.in = map[[wire.SessionIDLen]byte]*seal.Session{}
	}
}

// flight is a handshake in progress, which every request for the service
// waits for rather than start its own.
type flight struct {
	done chan struct{}
	s    *seal.Session
	err  error
}

const (
	// sessionLife is how long a provider lets a session be used;
	// renewBefore is how long before that the consumer opens the next.
	sessionLife = time.Hour
	renewBefore = 5 * time.Minute
	// handshakeTimeout bounds a handshake (two messages through the
	// exchange and one signature on each side).
	handshakeTimeout = 15 * time.Second
	// maxInSessions bounds the sessions a provider keeps for one consumer
	// appliance: a consumer that keeps opening them evicts its own oldest.
	maxInSessions = 16
)

// policyKeys is the keys the policy binds to appliances, as package seal
// asks for them.
func policyKeys(p *policy.Policy) seal.Keys { return p.ApplianceKey }

// outSession returns the session that a request for svc is sealed in,
// opening one when there is none, it expires soon, or the policy no longer
// lists its provider's key or routes svc to it.
func (a *Appliance) outSession(ctx context.Context, p *policy.Policy, svc ident.Service) (*seal.Session, error) {
	usable := func(s *seal.Session) bool {
		return s != nil && time.Until(s.Expires) > renewBefore && stillTrusted(p, s.Provider, s.ProviderKey) && routedTo(p, svc, s.Provider)
	}
	a.sess.mu.RLock()
	s := a.sess.out[svc]
	a.sess.mu.RUnlock()
	if usable(s) {
		return s, nil
	}
	a.sess.mu.Lock()
	a.sess.maps()
	if s := a.sess.out[svc]; usable(s) {
		a.sess.mu.Unlock()
		return s, nil
	}
	f := a.sess.flights[svc]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		a.sess.flights[svc] = f
		go a.fly(svc, f)
	}
	a.sess.mu.Unlock()
	select {
	case <-f.done:
		return f.s, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fly runs one handshake for svc and hands its session to every request
// waiting for it. It has its own deadline: a caller that gives up does not
// fail the others.
func (a *Appliance) fly(svc ident.Service, f *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	f.s, f.err = a.handshake(ctx, svc)
	a.sess.mu.Lock()
	delete(a.sess.flights, svc)
	if f.err == nil {
		a.sess.out[svc] = f.s
	}
	a.sess.mu.Unlock()
	close(f.done)
}

// forget drops the session for svc when it is s: its provider no longer
// knows it, or is gone.
func (a *Appliance) forget(svc ident.Service, s *seal.Session) {
	a.sess.mu.Lock()
	if a.sess.out[svc] == s {
		delete(a.sess.out, svc)
	}
	a.sess.mu.Unlock()
}

// handshake opens a session for svc through the exchange, which chooses
// the provider appliance; the reply must come from an appliance the policy
// routes svc to, with the key the policy lists for it.
func (a *Appliance) handshake(ctx context.Context, svc ident.Service) (*seal.Session, error) {
	s, _, err := a.openStream(ctx) // first: no signature while no tunnel is up
	if err != nil {
		return nil, err
	}
	pend, err := seal.Start(a.sealID, time.Now())
	if err != nil {
		wire.Abort(s, wire.CodeInternal)
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { wire.Abort(s, ctxCode(ctx)) })
	defer stop()
	route := wire.RouteHead{ID: newRequestID(), Service: svc.String(), Timeout: handshakeTimeout}
	if _, err := s.Write(wire.AppendFrame(routeFrame(nil, &route), wire.FrameSealHello, pend.Hello())); err != nil {
		wire.Abort(s, wire.CodeInternal)
		return nil, err
	}
	_ = s.Close()
	ft, payload, err := wire.ReadFrame(wire.NewReader(s), wire.MaxHead)
	s.CancelRead(wire.CodeCanceled)
	switch {
	case err != nil:
		return nil, err
	case ft == wire.FrameError:
		return nil, decodeRefusal(payload)
	case ft != wire.FrameSealReply:
		return nil, fmt.Errorf("%w: %s instead of a session reply", wire.ErrUnexpectedFrame, ft)
	}
	p := a.policy.Load()
	if p == nil {
		return nil, errors.New("no policy in force")
	}
	sess, err := pend.Finish(payload, policyKeys(p), func(ap ident.Appliance) bool { return routedTo(p, svc, ap) }, time.Now())
	if err != nil {
		a.log.Warn("session refused: the reply did not come from the provider the policy names", "service", svc, "err", err)
		return nil, &wire.Error{Code: string(problem.Tampered), Hop: "consumer",
			Detail: fmt.Sprintf("The answer to this appliance's session request for %s did not come from an appliance the policy names: %v.", svc, err)}
	}
	a.log.Info("session opened", "service", svc, "provider", sess.Provider, "session", fmt.Sprintf("%x", sess.ID[:4]), "expires", sess.Expires)
	return sess, nil
}

// stillTrusted reports whether the policy in force still lists key for a.
func stillTrusted(p *policy.Policy, a ident.Appliance, key string) bool {
	k, ok := p.ApplianceKey(a)
	return ok && k == key
}

// keepInSession stores a session a consumer opened with this appliance,
// evicting that consumer's oldest beyond maxInSessions and any expired.
func (a *Appliance) keepInSession(s *seal.Session) {
	now := time.Now()
	a.sess.mu.Lock()
	defer a.sess.mu.Unlock()
	a.sess.maps()
	var oldest *seal.Session
	n := 0
	for id, o := range a.sess.in {
		switch {
		case now.After(o.Expires):
			delete(a.sess.in, id)
		case o.Consumer == s.Consumer:
			n++
			if oldest == nil || o.Expires.Before(oldest.Expires) {
				oldest = o
			}
		}
	}
	if n >= maxInSessions {
		delete(a.sess.in, oldest.ID)
	}
	a.sess.in[s.ID] = s
}

// inSession finds the session a request says it was sealed in.
func (a *Appliance) inSession(id [wire.SessionIDLen]byte) *seal.Session {
	a.sess.mu.RLock()
	defer a.sess.mu.RUnlock()
	return a.sess.in[id]
}

// decodeRefusal turns an error frame into the error it carries.
func decodeRefusal(payload []byte) error {
	we, err := wire.DecodeError(payload)
	if err != nil {
		return err
	}
	return we
}

// routeFrame appends a route head as a frame; the head fits (its fields
// were checked as the request was admitted).
func routeFrame(b []byte, h *wire.RouteHead) []byte {
	head, _ := h.MarshalBinary()
	return wire.AppendFrame(b, wire.FrameRoute, head)
}

// acceptSession answers a consumer's handshake: the hello must be signed
// with the key the policy lists for the consumer it names, which must be
// the consumer the exchange says, and the policy must route the service to
// this appliance. Refusals are logged as warnings: a hello that does not
// check out was forged or altered on the way.
func (a *Appliance) acceptSession(s transport.Stream, r *bufio.Reader, route *wire.RouteHead) {
	refuse := func(code problem.Code, detail string, err error) {
		a.log.Warn("session refused", "service", route.Service, "consumer", route.ConsumerAppliance, "outcome", code, "err", err)
		var retry time.Duration
		if code == problem.ApplianceKeyMismatch {
			retry = time.Second
		}
		_ = wire.WriteError(s, &wire.Error{Code: string(code), Detail: detail, Hop: "provider", RetryAfter: wire.ToMillis(retry)})
		_ = s.Close()
		s.CancelRead(wire.CodeCanceled)
	}
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	ft, hello, err := wire.ReadFrame(r, wire.MaxHead)
	_ = s.SetReadDeadline(time.Time{})
	if err == nil && ft != wire.FrameSealHello {
		err = fmt.Errorf("%w: %s instead of a session hello", wire.ErrUnexpectedFrame, ft)
	}
	if err != nil {
		refuse(problem.BadRequest, "The session request is malformed.", err)
		return
	}
	p := a.policy.Load()
	if p == nil {
		refuse(problem.NoPolicy, "The provider's appliance has no valid policy yet.", nil)
		return
	}
	svc, err := ident.ParseService(route.Service)
	if err == nil && !p.HasService(svc) {
		refuse(problem.UnknownService, fmt.Sprintf("%s is not in the provider's policy v%d.", svc, p.Version()), nil)
		return
	}
	if err != nil || !routedTo(p, svc, a.id) {
		refuse(problem.NotAllowed, fmt.Sprintf("The policy does not route %s to %s.", route.Service, a.id), err)
		return
	}
	sess, reply, err := seal.Accept(a.sealID, hello, policyKeys(p), time.Now(), sessionLife)
	if err == nil && sess.ConsumerName() != route.ConsumerAppliance {
		err = fmt.Errorf("the hello is %s's, the exchange passed it on as %q's", sess.Consumer, route.ConsumerAppliance)
	}
	switch {
	case errors.Is(err, seal.ErrUnknownKey):
		// Forged, or signed with a key this appliance's policy does not
		// bind yet: a policy that approves it may be seconds away.
		refuse(problem.ApplianceKeyMismatch, fmt.Sprintf("The provider's policy v%d does not bind the key the session request was signed with to the appliance it names. "+
			"If central ops have just approved that appliance's key, retry in a moment; otherwise this appliance refused it as forged and logged it.", p.Version()), err)
		return
	case err != nil:
		refuse(problem.Tampered, "The session request was not made by the appliance it names, with the key the policy lists for it; this appliance refused it and logged it.", err)
		return
	}
	a.keepInSession(sess)
	if err := wire.WriteFrame(s, wire.FrameSealReply, reply); err != nil {
		wire.Abort(s, wire.ResetCode(err))
		return
	}
	_ = s.Close()
	s.CancelRead(wire.CodeCanceled)
	a.log.Info("session accepted", "service", svc, "consumer", sess.Consumer, "session", fmt.Sprintf("%x", sess.ID[:4]), "expires", sess.Expires)
}
