package exchange

import (
	"fmt"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// PushResult says what a push did.
type PushResult struct {
	Version  uint64    `json:"version"`
	Expires  time.Time `json:"expires"`
	PushedTo int       `json:"pushed_to"` // connected appliances it was sent to
	// OtherKeys are the enrolled appliances the bundle binds to another
	// key than their registered one: they carry no requests under it.
	OtherKeys []string `json:"other_keys,omitempty"`
}

// otherKeys lists the enrolled, unrevoked appliances that p lists with
// another key than the registered one, for ops to see at the push.
func (x *Exchange) otherKeys(p *policy.Policy) []string {
	regs, err := x.store.Appliances()
	if err != nil {
		x.log.Warn("reading the registry to compare the policy's keys", "err", err)
		return nil
	}
	var out []string
	for _, r := range regs {
		id, err := ident.ParseAppliance(r.ID)
		if err != nil || r.Revoked || r.KeyHash == "" { // a key not recorded yet is recorded at connection
			continue
		}
		if k, ok := p.ApplianceKey(id); ok && k != r.KeyHash {
			out = append(out, r.ID)
		}
	}
	if len(out) > 0 {
		x.log.Warn("the policy binds appliances to other keys than their registered ones; they carry no requests under it", "version", p.Version(), "appliances", out)
	}
	return out
}

// Push verifies a signed bundle with the ops keys, makes it current and
// sends it to every connected appliance at once, as a delta against the
// bundle the appliance holds when it can take one. Appliances that are
// offline get it when they reconnect.
func (x *Exchange) Push(signed []byte) (*PushResult, error) { return x.push(signed, false, false) }

// PushWhole is Push that sends every appliance the whole bundle, never a
// delta: for when ops suspect deltas, and to measure what they save.
func (x *Exchange) PushWhole(signed []byte) (*PushResult, error) { return x.push(signed, false, true) }

// verifyPush checks a bundle offered for publication: signed by the ops
// trust in force and newer than the current bundle (how it stands to a
// staged one is push's and Stage's business). The caller holds pushMu.
func (x *Exchange) verifyPush(signed []byte) (*policy.Policy, error) {
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return nil, err
	}
	cur := x.policy.Load()
	p, err := s.VerifyOver(x.trust, time.Now(), cur)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		if err := policy.CheckNewer(cur.Version(), p.Version()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// push publishes to the whole fleet. During a staged rollout only the
// rollout's own promote and abort may (endRollout). whole sends no deltas.
func (x *Exchange) push(signed []byte, endRollout, whole bool) (*PushResult, error) {
	x.pushMu.Lock()
	defer x.pushMu.Unlock()
	r := x.staged.Load()
	if r != nil && !endRollout {
		return nil, ErrRolloutRunning
	}
	p, err := x.verifyPush(signed)
	if err != nil {
		return nil, err
	}
	if r != nil && p.Version() < r.policy.Version() {
		return nil, fmt.Errorf("%w: v%d is below the staged v%d; a rollback is the old content signed as a version above it", policy.ErrNotNewer, p.Version(), r.policy.Version())
	}
	// The frames are encoded once for the whole fleet, before anything
	// changes: appliances hold the current bundle or the staged one.
	bases := []*policy.Policy{x.policy.Load()}
	if r != nil {
		bases = append(bases, r.policy)
	}
	if whole {
		bases = nil
	}
	out, err := newFanout(p, bases...)
	if err != nil {
		return nil, err
	}
	next := p.After(x.trust)
	if err := x.store.SetPolicy(signed, p.Version(), store.PolicyTrust{VerifiedBy: policy.TrustRecord(x.trust), Next: policy.TrustRecord(next)}); err != nil {
		return nil, err
	}
	if p.Rotates() {
		x.log.Info("ops keys rotated: bundles after this one must be signed by the announced keys", "version", p.Version(), "keys", len(next.Keys), "threshold", next.Threshold)
	}
	x.bundleTrust, x.trust = x.trust, next
	if r != nil {
		if err := x.store.SetStaged(nil); err != nil {
			x.log.Error("clearing the staged rollout", "err", err)
		}
		x.staged.Store(nil)
		x.log.Info("staged rollout ended", "staged", r.policy.Version(), "now", p.Version())
	}
	old := x.policy.Swap(p)
	x.signed.Store(&signed)
	if old == nil || old.AttestInterval() != p.AttestInterval() {
		x.kickAttestation() // the loops wait on the old interval
	}
	n := 0
	for _, ss := range x.allSessions() {
		if ss.applied.Load() != p.Version() && !ss.replaced.Load() { // a replaced tunnel's successor gets it
			n++
			go x.send(ss, out)
		}
	}
	x.log.Info("policy pushed", "version", p.Version(), "expires", p.Expires(), "pushed_to", n, "deltas", len(out.deltas) > 0)
	return &PushResult{Version: p.Version(), Expires: p.Expires(), PushedTo: n, OtherKeys: x.otherKeys(p)}, nil
}

// fanout is a bundle encoded for sending: whole, and as a delta against
// each bundle that connected appliances may hold.
type fanout struct {
	whole  []byte            // a policy frame's payload
	deltas map[uint64][]byte // base version → a policy-delta frame's payload
}

// newFanout encodes next whole and as deltas against bases (nil entries
// are skipped). Encoding per session instead cost the exchange more CPU
// than sending, at a thousand appliances.
func newFanout(next *policy.Policy, bases ...*policy.Policy) (*fanout, error) {
	raw, err := next.Signed().MarshalBinary()
	if err != nil {
		return nil, err
	}
	f := &fanout{deltas: map[uint64][]byte{}}
	if f.whole, err = wire.PolicyFrame(raw); err != nil {
		return nil, err
	}
	for _, base := range bases {
		if base == nil || base.Signed() == nil || base.Version() >= next.Version() {
			continue
		}
		d, err := policy.NewDelta(base, next)
		if err != nil {
			return nil, err
		}
		if f.deltas[base.Version()], err = d.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// send writes f to one session: a delta if the appliance takes them and
// holds one of the bases, the whole bundle otherwise.
func (x *Exchange) send(s *session, f *fanout) {
	if d, ok := f.deltas[s.applied.Load()]; ok && s.hello.PolicyDeltas {
		if x.sendPolicy(s, wire.FramePolicyDelta, d) {
			x.metrics.deltasSent.Inc()
		}
		return
	}
	x.sendPolicy(s, wire.FramePolicy, f.whole)
}

// resend sends a session the whole bundle it should hold, after it could
// not use a delta: the staged bundle if it is in the stage, the current
// one otherwise.
func (x *Exchange) resend(s *session) {
	p := x.policy.Load()
	if r := x.staged.Load(); r != nil && r.Stage.includes(s.id) {
		p = r.policy
	}
	if p == nil || s.applied.Load() >= p.Version() {
		return
	}
	f, err := newFanout(p)
	if err != nil {
		s.log.Error("encoding a policy frame", "err", err)
		return
	}
	x.metrics.deltasResent.Inc()
	x.send(s, f)
}

// PolicyAcks is how far a policy version has reached the connected fleet.
type PolicyAcks struct {
	Version   uint64 `json:"version"`
	Acked     int    `json:"acked"`     // connected appliances applying Version or later
	Connected int    `json:"connected"` // appliances with a tunnel up
}

// Acked counts the appliances connected now and, among them, those that
// acknowledged version or a later one: the figure ops (and the fleet
// harness) watch after a push instead of asking each appliance. An
// appliance counts once however many tunnels it has to this exchange.
// Only x.mu is held, for a walk over the sessions; nothing is sent.
func (x *Exchange) Acked(version uint64) (acked, connected int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, list := range x.sessions {
		up, ok := false, false
		for _, s := range list {
			if s.conn.Context().Err() != nil {
				continue
			}
			up = true
			ok = ok || s.applied.Load() >= version
		}
		if up {
			connected++
		}
		if ok {
			acked++
		}
	}
	return acked, connected
}

// catchUp brings a reconnecting (or new) appliance to the current bundle:
// first every bundle it missed that rotated the ops keys, oldest first, so
// that it learns each new trust from bundles signed by the one it holds;
// then the current bundle.
func (x *Exchange) catchUp(s *session, reg *store.Appliance, current []byte, version uint64) {
	from := max(s.hello.PolicyVersion+1, reg.TrustVersion)
	history, err := x.store.PolicyHistory(from)
	if err != nil {
		s.log.Error("reading the policy history", "err", err)
	}
	for _, signed := range history {
		sb, err := policy.ParseSigned(signed)
		if err != nil {
			continue
		}
		b, err := sb.Bundle()
		if err != nil || b.NextTrust == nil || b.Version >= version {
			continue
		}
		x.pushTo(s, signed)
	}
	x.pushTo(s, current)
}

// sendPolicy writes an encoded policy frame on one session's control
// stream, as session.send would; only that session's lock is held. It
// reports whether the frame was written.
func (x *Exchange) sendPolicy(s *session, ft wire.FrameType, frame []byte) bool {
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	_ = s.ctrl.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteFrame(s.ctrl, ft, frame); err != nil {
		x.metrics.pushesFailed.Inc()
		s.log.Warn("policy push failed; the appliance gets it on reconnect", "err", err)
		return false
	}
	x.metrics.pushesSent.Inc()
	return true
}

// pushTo sends one session a signed bundle whole.
func (x *Exchange) pushTo(s *session, signed []byte) {
	frame, err := wire.PolicyFrame(signed)
	if err != nil {
		s.log.Error("encoding a policy frame", "err", err)
		return
	}
	x.sendPolicy(s, wire.FramePolicy, frame)
}

// PolicyStatus is the exchange's view of policy for ops.
type PolicyStatus struct {
	Version uint64    `json:"version"`
	Expires time.Time `json:"expires,omitzero"`
}

// PolicyStatus returns the current policy's version and expiry.
func (x *Exchange) PolicyStatus() PolicyStatus {
	p := x.policy.Load()
	if p == nil {
		return PolicyStatus{}
	}
	return PolicyStatus{Version: p.Version(), Expires: p.Expires()}
}

// ApplianceView is one row of the fleet as ops see it.
type ApplianceView struct {
	ID            string    `json:"id"`
	Member        string    `json:"member"`
	Connected     bool      `json:"connected"`
	Tunnels       int       `json:"tunnels"`
	Since         time.Time `json:"since,omitzero"`
	LastSeen      time.Time `json:"last_seen,omitzero"`
	PolicyVersion uint64    `json:"policy_version"`
	PolicyError   string    `json:"policy_error,omitempty"`
	Software      string    `json:"software,omitempty"`
	CertExpiry    time.Time `json:"cert_expiry,omitzero"`
	Requests      int64     `json:"requests"`
	// Attestation is "software key", "pending", "ok" or "quarantined".
	Attestation      string    `json:"attestation"`
	QuarantineReason string    `json:"quarantine_reason,omitempty"`
	LastAttested     time.Time `json:"last_attested,omitzero"`
	Revoked          bool      `json:"revoked,omitempty"`
	// Pending says the appliance is enrolled but the policy in force does
	// not list it: its tunnel carries control only until ops approve it
	// (bab-exchange fleet approve, then sign and push).
	Pending bool `json:"pending,omitempty"`
	// KeyHash is the registered key (policy.KeyHash), the only one the
	// exchange accepts for the name; PolicyKey is the key the policy
	// assigned to the appliance binds to its name, when it lists it.
	// KeyMismatch says they differ: the appliance was re-enrolled or
	// replaced since ops approved it, and its tunnel carries control only
	// until ops sign its new key (fleet approve, then sign and push).
	KeyHash     string `json:"key_hash,omitempty"`
	PolicyKey   string `json:"policy_key,omitempty"`
	KeyMismatch bool   `json:"key_mismatch,omitempty"`
	// CertSerial is the certificate the exchange issued last; Live are
	// the tunnels up now, each with the certificate it presented.
	CertSerial string       `json:"cert_serial,omitempty"`
	Live       []TunnelView `json:"live,omitempty"`
}

// TunnelView is one live tunnel: where it comes from, since when, and the
// certificate and key it authenticated with.
type TunnelView struct {
	Remote     string    `json:"remote"`
	Since      time.Time `json:"since"`
	CertSerial string    `json:"cert_serial"`
	KeyHash    string    `json:"key_hash"`
}

func attestationState(a *store.Appliance) string {
	switch {
	case a.KeyKind != "tpm":
		return "software key"
	case a.Quarantined:
		return "quarantined"
	case a.LastAttested.IsZero():
		return "pending"
	}
	return "ok"
}

// Fleet lists every enrolled appliance with its live state.
func (x *Exchange) Fleet() ([]ApplianceView, error) {
	regs, err := x.store.Appliances()
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	cur, staged := x.policy.Load(), x.staged.Load()
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]ApplianceView, 0, len(regs))
	for _, r := range regs {
		v := ApplianceView{ID: r.ID, Member: r.Member, CertExpiry: r.CertExpiry, Attestation: attestationState(&r),
			QuarantineReason: r.QuarantineReason, LastAttested: r.LastAttested, LastSeen: r.LastSeen, Revoked: r.Revoked, CertSerial: r.CertSerial,
			Pending: !r.Revoked && !listed(cur, staged, r.ID), KeyHash: r.KeyHash}
		if id, err := ident.ParseAppliance(r.ID); err == nil {
			if p := assigned(cur, staged, id); p != nil {
				v.PolicyKey, _ = p.ApplianceKey(id)
			}
		}
		v.KeyMismatch = !r.Revoked && !v.Pending && r.KeyHash != "" && v.PolicyKey != "" && v.PolicyKey != r.KeyHash
		for id, list := range x.sessions {
			if id.String() != r.ID {
				continue
			}
			v.Tunnels = len(list)
			v.Connected = len(list) > 0
			for _, s := range list {
				v.Since = s.since
				v.LastSeen = time.Unix(0, s.lastSeen.Load())
				v.PolicyVersion = s.applied.Load()
				v.Software = s.hello.Software
				v.Requests += s.requests.Load()
				v.Live = append(v.Live, TunnelView{Remote: s.conn.RemoteAddr().String(), Since: s.since, CertSerial: s.serial, KeyHash: s.keyHash})
				if e := s.ackErr.Load(); e != nil {
					v.PolicyError = *e
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// assigned is the policy the exchange holds an appliance to: the staged
// one inside a rollout's stage, the current one elsewhere (see policyFor).
func assigned(cur *policy.Policy, staged *rollout, id ident.Appliance) *policy.Policy {
	if staged != nil && staged.Stage.includes(id) {
		return staged.policy
	}
	return cur
}

// listed reports whether the policy in force, or a staged one that
// includes the appliance, lists it.
func listed(cur *policy.Policy, staged *rollout, name string) bool {
	id, err := ident.ParseAppliance(name)
	if err != nil {
		return false
	}
	if cur != nil && cur.HasAppliance(id) {
		return true
	}
	return staged != nil && staged.Stage.includes(id) && staged.policy.HasAppliance(id)
}
