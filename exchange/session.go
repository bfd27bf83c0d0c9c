package exchange

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// session is one live tunnel from an appliance.
type session struct {
	id       ident.Appliance
	name     string // id.String(), which every request carried names
	conn     transport.Conn
	hello    wire.Hello
	since    time.Time
	log      *slog.Logger
	serial   string        // the certificate the tunnel authenticated with
	keyHash  string        // its key, the registered one when admitted
	admitted atomic.Bool   // checked against the registry after it became findable
	applied  atomic.Uint64 // policy version the appliance acknowledged
	ackErr   atomic.Pointer[string]
	lastSeen atomic.Int64
	requests atomic.Int64
	// received is what the connection had received at the last sample,
	// arrived when that last grew (liveness.go).
	received atomic.Uint64
	arrived  atomic.Int64
	// next spreads the requests to this appliance over its sessions:
	// the first session's counter serves them all.
	next atomic.Uint64
	// replaced says the appliance dialled this tunnel's lane again: new
	// requests take the new tunnel once it is usable, and this one is
	// closed when the requests on it (active) are done (retire).
	replaced atomic.Bool
	active   atomic.Int64

	ctrlMu sync.Mutex
	ctrl   transport.Stream

	// Attestation: answers to checks, a way for ops to ask for one now,
	// and the current verdict (a quarantined session carries no requests).
	// At most one renewal and one resend of the bundle run per tunnel.
	renewing   atomic.Bool
	lastRenew  atomic.Int64 // when the last renewal started, Unix nanoseconds
	resending  atomic.Bool
	resendMore atomic.Bool // another resend was asked for while one ran
	querying   atomic.Bool // a trace query is being answered

	quotes      chan wire.Quote
	kick        chan struct{}
	quarantined atomic.Bool
	// attested is set once this connection's first boot-state check has a
	// verdict (at once for software keys, which have no boot state to
	// check): nothing is routed to or from the appliance before, so a
	// changed boot state gets no traffic while its quote is awaited.
	attested atomic.Bool
}

func (s *session) send(ft wire.FrameType, v any) error {
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	_ = s.ctrl.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return wire.WriteJSON(s.ctrl, ft, v)
}

// serveTunnel runs one appliance tunnel: identify it from its verified
// certificate, exchange hello and welcome, push the current policy if the
// appliance is behind, then serve its control stream and request streams.
func (x *Exchange) serveTunnel(ctx context.Context, conn transport.Conn) {
	certs := conn.TLS().PeerCertificates
	if len(certs) == 0 {
		conn.CloseWithError(wire.CloseUnenrolled, "no client certificate")
		return
	}
	id, err := ident.ParseAppliance(certs[0].Subject.CommonName)
	if err != nil {
		conn.CloseWithError(wire.CloseUnenrolled, "certificate names no appliance")
		return
	}
	log := x.log.With("subsys", "tunnel", "appliance", id.String(), "remote", conn.RemoteAddr().String())
	reg, err := x.admit(id, certs[0])
	if err != nil {
		refuse(conn, log, err)
		return
	}
	if time.Now().After(certs[0].NotAfter) {
		// Within the grace period (checked in the handshake), and admitted
		// above as the registered key's certificate.
		log.Info("appliance reconnects with an expired certificate; it renews now", "not_after", certs[0].NotAfter)
	}

	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ctrl, err := conn.AcceptStream(hctx)
	cancel()
	if err != nil {
		conn.CloseWithError(wire.CloseProtocol, "no control stream")
		return
	}
	r := wire.NewReader(ctrl)
	_ = ctrl.SetReadDeadline(time.Now().Add(10 * time.Second))
	ft, payload, err := wire.ReadFrame(r, 64<<10)
	_ = ctrl.SetReadDeadline(time.Time{})
	if err == nil && ft == wire.FrameProbe {
		x.answerProbe(conn, ctrl, log)
		return
	}
	var hello wire.Hello
	if err == nil && ft != wire.FrameHello {
		err = fmt.Errorf("%w: %s instead of hello", wire.ErrUnexpectedFrame, ft)
	}
	if err == nil {
		err = wire.DecodeJSON(ft, payload, &hello)
	}
	if err != nil {
		log.Warn("bad hello", "err", err)
		conn.CloseWithError(wire.CloseProtocol, "bad hello")
		return
	}
	if hello.Appliance != id.String() {
		log.Warn("hello names another appliance than the certificate", "hello", hello.Appliance)
		conn.CloseWithError(wire.CloseProtocol, "hello does not match certificate")
		return
	}
	s := &session{id: id, name: id.String(), conn: conn, hello: hello, since: time.Now(), log: log, ctrl: ctrl, serial: certSerial(certs[0]), keyHash: reg.KeyHash,
		quotes: make(chan wire.Quote, 1), kick: make(chan struct{}, 1)}
	s.applied.Store(hello.PolicyVersion)
	s.lastSeen.Store(time.Now().UnixNano())
	if !x.addSession(s) {
		x.metrics.limited.WithLabelValues("tunnels_per_appliance").Inc()
		log.Warn("refusing a tunnel: the appliance has as many as its limit", "limit", x.cfg.Limits.TunnelsPerAppliance)
		conn.CloseWithError(wire.CloseBusy, fmt.Sprintf("this appliance already has %d tunnels, the most the exchange allows", x.cfg.Limits.TunnelsPerAppliance))
		return
	}
	defer x.removeSession(s)
	// A revocation or a replacement that committed after the check above
	// found no session of this tunnel to close; now that it can be found,
	// look again: whichever comes second sees the other.
	if reg, err = x.admit(id, certs[0]); err != nil {
		refuse(conn, log, err)
		return
	}
	// Until the first check answers, the registry's verdict stands: a
	// quarantined appliance does not escape it by reconnecting.
	s.quarantined.Store(reg.Quarantined)
	s.admitted.Store(true)
	welcome := wire.Welcome{Exchange: x.cfg.Names[0], Heartbeat: wire.ToMillis(x.cfg.Heartbeat), ServerTime: time.Now().UTC()}
	if err := s.send(wire.FrameWelcome, welcome); err != nil {
		conn.CloseWithError(wire.CloseProtocol, "welcome failed")
		return
	}
	log.Info("tunnel up", "software", hello.Software, "policy_version", hello.PolicyVersion)
	go x.bringUp(s, reg)

	actx, stopAttest := context.WithCancel(ctx)
	defer stopAttest()
	if reg.KeyKind == "tpm" {
		go x.attestLoop(actx, s)
	} else {
		s.attested.Store(true)
	}
	go x.acceptRequests(ctx, s)
	err = x.readControl(s, r)
	log.Info("tunnel down", "err", err)
	if _, uerr := x.store.UpdateAppliance(id.String(), func(a *store.Appliance) error { a.LastSeen = time.Now().UTC(); return nil }); uerr != nil {
		log.Warn("recording when the appliance was last seen", "err", uerr)
	}
	conn.CloseWithError(wire.CloseNormal, "")
}

func (x *Exchange) readControl(s *session, r *bufio.Reader) error {
	for {
		ft, payload, err := wire.ReadFrame(r, 0)
		if err != nil {
			return err
		}
		s.lastSeen.Store(time.Now().UnixNano())
		switch ft {
		case wire.FramePing:
			var p wire.Ping
			if err := wire.DecodeJSON(ft, payload, &p); err != nil {
				return err
			}
			if err := s.send(wire.FramePong, wire.Pong(p)); err != nil {
				return err
			}
		case wire.FramePolicyAck:
			var a wire.PolicyAck
			if err := wire.DecodeJSON(ft, payload, &a); err != nil {
				return err
			}
			s.applied.Store(a.Applied)
			if a.Resend {
				s.log.Info("appliance holds another bundle than the delta's base; sending the whole bundle", "applied", a.Applied)
				x.resendOnce(s)
				continue
			}
			if a.Error != "" {
				x.metrics.acksRefused.Inc()
				msg := a.Error
				s.ackErr.Store(&msg)
				s.log.Warn("appliance refused policy", "version", a.Version, "applied", a.Applied, "reason", a.Error)
			} else {
				s.ackErr.Store(nil)
				x.metrics.acksApplied.Inc()
				s.log.Info("appliance applied policy", "version", a.Applied)
			}
		case wire.FrameQuote:
			var q wire.Quote
			if err := wire.DecodeJSON(ft, payload, &q); err != nil {
				return err
			}
			select {
			case s.quotes <- q:
			default: // an answer nobody waits for any more
			}
		case wire.FrameEvidence:
			x.takeEvidence(s, payload)
		case wire.FrameRenew:
			var rq wire.Renew
			if err := wire.DecodeJSON(ft, payload, &rq); err != nil {
				return err
			}
			x.renewOnce(s, rq.CSR)
		case wire.FrameTraceQuery:
			var q tracelog.TraceQuery
			if err := wire.DecodeJSON(ft, payload, &q); err != nil {
				return err
			}
			x.answerTraceQuery(s, q)
		default:
			s.log.Debug("ignoring control frame", "type", ft)
		}
	}
}

func (x *Exchange) acceptRequests(ctx context.Context, s *session) {
	for {
		st, err := s.conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		x.workers.Go(func() { x.serveRequest(s, st) })
	}
}

// addSession registers a tunnel, unless the appliance has as many as its
// limit already. A tunnel on the same lane as the new one (wire.Hello.Lane)
// is retired: its appliance gave it up, after an outage or to move it to
// another transport. At the limit, a session on a dead path (nothing
// arrived for staleAfter) makes room: it is closed, as its appliance has
// come back on another.
func (x *Exchange) addSession(s *session) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	list := x.sessions[s.id]
	if i := slices.IndexFunc(list, func(o *session) bool {
		return s.hello.Lane != "" && o.hello.Lane == s.hello.Lane && !o.replaced.Load()
	}); i >= 0 {
		list[i].replaced.Store(true)
		go x.retire(list[i], s)
	}
	// A replaced tunnel is on its way out: it holds no place.
	if len(list)-countReplaced(list) >= x.cfg.Limits.TunnelsPerAppliance {
		now := time.Now()
		i := slices.IndexFunc(list, func(o *session) bool { return !o.fresh(now) && !o.replaced.Load() })
		if i < 0 {
			return false
		}
		old := list[i]
		old.log.Info("closing a tunnel on which nothing arrived for long, to make room for the appliance's new one", "stale_after", staleAfter)
		go old.conn.CloseWithError(wire.CloseNormal, "replaced by a newer tunnel")
		list = append(list[:i:i], list[i+1:]...)
	}
	x.sessions[s.id] = append(list, s)
	return true
}

func countReplaced(list []*session) int {
	n := 0
	for _, s := range list {
		if s.replaced.Load() {
			n++
		}
	}
	return n
}

// retireMax bounds how long a replaced tunnel is kept for the requests
// on it.
const retireMax = time.Minute

// retire closes old, a tunnel its appliance replaced with next on the
// same lane, once the requests on it are done and next is usable, or
// once nothing arrives on it any more: at once after an outage, whose
// old tunnel is dead; after a drain when the appliance moves the lane
// to another transport, so that no request fails in the move.
func (x *Exchange) retire(old, next *session) {
	deadline := time.Now().Add(retireMax)
	for time.Now().Before(deadline) && old.fresh(time.Now()) && (old.active.Load() > 0 || !next.usable()) {
		select {
		case <-old.conn.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	old.log.Info("closing a tunnel its appliance dialled again: it gave this one up", "lane", old.hello.Lane)
	old.conn.CloseWithError(wire.CloseNormal, "replaced by the appliance's new connection on this lane")
}

func (x *Exchange) removeSession(s *session) {
	x.mu.Lock()
	defer x.mu.Unlock()
	list := x.sessions[s.id]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(x.sessions, s.id)
	} else {
		x.sessions[s.id] = list
	}
}

// session returns a usable tunnel of an appliance, taking those on which
// something arrived lately in turn; for an appliance too old to keep its
// tunnels alive (wire.Hello.KeepsAlive), the newest usable one when none
// did; nil when it has none.
func (x *Exchange) session(id ident.Appliance) *session {
	x.mu.RLock()
	defer x.mu.RUnlock()
	list := x.sessions[id]
	if len(list) == 0 {
		return nil
	}
	now := time.Now()
	// A replaced tunnel carries new requests only until its successor is
	// usable.
	live := func(s *session) bool { return s.usable() && s.fresh(now) && !s.replaced.Load() }
	n := 0
	for _, s := range list {
		if live(s) {
			n++
		}
	}
	if n == 0 {
		live = func(s *session) bool { return s.usable() && s.fresh(now) }
		for _, s := range list {
			if live(s) {
				n++
			}
		}
	}
	if n > 0 {
		k := int(list[0].next.Add(1) % uint64(n))
		var last *session // one that went silent between the two walks shifts the count
		for _, s := range list {
			if live(s) {
				if k == 0 {
					return s
				}
				k, last = k-1, s
			}
		}
		if last != nil {
			return last
		}
	}
	// None had news: an appliance that keeps its tunnels alive is on none
	// of them; an older one's may only be idle.
	var newest *session
	for _, s := range list {
		if s.usable() && !s.hello.KeepsAlive && (newest == nil || s.since.After(newest.since)) {
			newest = s
		}
	}
	return newest
}

func (x *Exchange) allSessions() []*session {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*session
	for _, list := range x.sessions {
		out = append(out, list...)
	}
	return out
}

func (x *Exchange) closeSessions() {
	for _, s := range x.allSessions() {
		s.conn.CloseWithError(wire.CloseShutdown, "exchange stopping")
	}
}
