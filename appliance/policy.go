package appliance

import (
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

type quicStream = quic.Stream

// loadPolicy restores the last good bundle from the store. Its signature is
// checked again so that an edited state file cannot widen access; an
// expired bundle is still loaded so that the gateway can say so.
func (a *Appliance) loadPolicy() error {
	sp, err := a.store.Policy()
	if err != nil || sp == nil {
		return err
	}
	s, err := policy.ParseSigned(sp.Signed)
	if err != nil {
		return fmt.Errorf("cached policy: %w", err)
	}
	// The bundle is checked with the trust that verified it; after it, the
	// trust it announced (if it rotated the ops keys) is in force.
	verifiedBy, err := policy.TrustFromRecord(sp.Trust.VerifiedBy, a.trust)
	if err != nil {
		return fmt.Errorf("cached policy v%d: %w", sp.Version, err)
	}
	p, err := s.VerifyOver(verifiedBy, time.Now(), nil)
	if errors.Is(err, policy.ErrExpired) {
		a.log.Warn("the cached policy has expired", "version", sp.Version)
		p, err = s.VerifyOver(verifiedBy, time.Time{}, nil)
	}
	if err != nil {
		return fmt.Errorf("cached policy v%d does not verify with the ops keys that accepted it: %w", sp.Version, err)
	}
	if a.trust, err = policy.TrustFromRecord(sp.Trust.Next, p.After(verifiedBy)); err != nil {
		return fmt.Errorf("cached policy v%d: %w", sp.Version, err)
	}
	a.policy.Store(p)
	return nil
}

// Policy applies a bundle pushed whole by the exchange.
func (a *Appliance) Policy(signed []byte) wire.PolicyAck {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return a.refuse(0, err)
	}
	return a.apply(s)
}

// PolicyDelta applies a bundle pushed as a delta against the bundle in
// force. If that is not the delta's base, the ack asks for the whole
// bundle and nothing changes.
func (a *Appliance) PolicyDelta(delta []byte) wire.PolicyAck {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	d, err := policy.ParseDelta(delta)
	if err != nil {
		return a.refuse(0, err)
	}
	s, err := a.policy.Load().Patch(d)
	if errors.Is(err, policy.ErrDeltaBase) {
		a.log.Info("policy delta for another base; asking for the whole bundle", "base", d.BaseVersion(), "reason", err)
		return wire.PolicyAck{Applied: a.applied(), Error: err.Error(), Resend: true}
	}
	if err != nil {
		return a.refuse(0, err)
	}
	return a.apply(s)
}

// applied is the version in force, 0 if none. The caller holds applyMu.
func (a *Appliance) applied() uint64 {
	if p := a.policy.Load(); p != nil {
		return p.Version()
	}
	return 0
}

// refuse logs and acknowledges a bundle that must not be applied.
func (a *Appliance) refuse(offered uint64, err error) wire.PolicyAck {
	applied := a.applied()
	a.log.Warn("policy rejected; the last good policy stays in force", "offered", offered, "applied", applied, "reason", err)
	return wire.PolicyAck{Version: offered, Applied: applied, Error: err.Error()}
}

// apply applies a signed bundle: signature by the pinned ops keys, a
// version strictly higher than the applied one, not expired. Only then is
// it stored (bundle and routing table in one transaction) and enforced. A
// rejected bundle leaves the last good one in force. The sections that did
// not change since the bundle in force are not decoded or compiled again.
// The caller holds applyMu.
func (a *Appliance) apply(s *policy.Signed) wire.PolicyAck {
	cur := a.policy.Load()
	applied := a.applied()
	// The bundle in force, delivered again (a reconnect, a second tunnel):
	// nothing to do. It is recognised before verification, since a bundle
	// that rotated the ops keys no longer verifies with the keys now in
	// force.
	if cur.SamePayload(s) {
		return wire.PolicyAck{Version: applied, Applied: applied}
	}
	p, err := s.VerifyOver(a.trust, time.Now(), cur)
	if err != nil {
		return a.refuse(0, err)
	}
	if err := policy.CheckNewer(applied, p.Version()); err != nil {
		return a.refuse(p.Version(), err)
	}
	routes := map[string][]string{}
	for svc, apps := range p.RouteTable() {
		for _, ap := range apps {
			routes[svc.String()] = append(routes[svc.String()], ap.String())
		}
	}
	next := p.After(a.trust)
	trust := store.Trust{VerifiedBy: policy.TrustRecord(a.trust), Next: policy.TrustRecord(next)}
	raw, err := s.MarshalBinary()
	if err == nil {
		err = a.store.ApplyPolicy(raw, p.Version(), routes, trust, time.Now())
	}
	if err != nil {
		a.log.Error("storing policy failed; the last good policy stays in force", "version", p.Version(), "err", err)
		return wire.PolicyAck{Version: p.Version(), Applied: applied, Error: "store: " + err.Error()}
	}
	a.policy.Store(p)
	if p.Rotates() {
		a.log.Info("ops keys rotated by the policy: later bundles must be signed by the announced keys", "version", p.Version(), "keys", len(next.Keys), "threshold", next.Threshold)
	}
	a.trust = next
	a.log.Info("policy applied", "version", p.Version(), "previous", applied, "expires", p.Expires())
	return wire.PolicyAck{Version: p.Version(), Applied: p.Version()}
}
