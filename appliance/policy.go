package appliance

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// loadPolicy restores the last good bundle from the store. A cached bundle
// that does not verify (a damaged or edited state file) is not fatal: the
// appliance starts without a policy, refuses requests with no_policy, says
// why in its status, and the exchange's next push (it pushes to every
// appliance that connects without the current policy) repairs it.
func (a *Appliance) loadPolicy() {
	sp, err := a.store.Policy()
	if err == nil && sp == nil {
		return
	}
	var p *policy.Policy
	var next policy.Trust
	if err == nil {
		p, next, err = VerifyCached(sp, a.trust, time.Now())
	}
	if err != nil {
		why := fmt.Sprintf("the cached policy was refused (%v); requests are refused until the exchange pushes a good one", err)
		a.policyProblem.Store(&why)
		a.log.Error("cached policy refused; starting without a policy until the exchange pushes one", "err", err)
		if sp != nil {
			// The keys it would have left in force, if that record is
			// intact: a rotation since enrollment must not strand it.
			if t, terr := policy.TrustFromRecord(sp.Trust.Next, a.trust); terr == nil {
				a.trust = t
			}
		}
		return
	}
	if time.Now().After(p.Expires()) {
		a.log.Warn("the cached policy has expired", "version", p.Version())
	}
	a.trust = next
	a.policy.Store(p)
}

// otherKey is the key p binds to this appliance's name when p lists the
// name with a key that is not this appliance's (it was re-enrolled, or
// another machine was enrolled in its place, since ops approved it), or
// "". Such an appliance is not the one the policy names: it may not call
// or be called until ops sign its key.
func (a *Appliance) otherKey(p *policy.Policy) string {
	if k, ok := p.ApplianceKey(a.id); ok && k != a.keyHash {
		return cmp.Or(k, "none")
	}
	return ""
}

// PinnedTrust is the ops trust pinned at enrollment.
func PinnedTrust(id *store.Identity) (policy.Trust, error) {
	t := policy.Trust{Threshold: id.PolicyThreshold}
	for _, k := range id.OpsKeys {
		pk, err := policy.ParsePublicKey(k)
		if err != nil {
			return t, fmt.Errorf("stored ops key: %w", err)
		}
		t.Keys = append(t.Keys, pk)
	}
	return t, nil
}

// VerifyCached checks a stored bundle again with the ops trust that
// accepted it, as recorded beside it (the keys pinned at enrollment if the
// record is empty), and returns it with the trust in force after it. An
// expired bundle is returned too, so that the gateway can say so.
//
// What this catches is damage and careless edits of the state file: the
// trust records live in the same file, so whoever can write the state
// directory (root, or the service's user) can replace them as well. That
// directory is the appliance's root of trust on the machine.
func VerifyCached(sp *store.Policy, pinned policy.Trust, now time.Time) (*policy.Policy, policy.Trust, error) {
	s, err := policy.ParseSigned(sp.Signed)
	if err != nil {
		return nil, pinned, fmt.Errorf("cached policy: %w", err)
	}
	verifiedBy, err := policy.TrustFromRecord(sp.Trust.VerifiedBy, pinned)
	if err != nil {
		return nil, pinned, fmt.Errorf("cached policy v%d: %w", sp.Version, err)
	}
	p, err := s.VerifyOver(verifiedBy, now, nil)
	if errors.Is(err, policy.ErrExpired) {
		p, err = s.VerifyOver(verifiedBy, time.Time{}, nil)
	}
	if err != nil {
		return nil, pinned, fmt.Errorf("cached policy v%d does not verify with the ops keys that accepted it: %w", sp.Version, err)
	}
	if p.Version() != sp.Version {
		return nil, pinned, fmt.Errorf("cached policy is v%d but is stored as v%d", p.Version(), sp.Version)
	}
	next, err := policy.TrustFromRecord(sp.Trust.Next, p.After(verifiedBy))
	if err != nil {
		return nil, pinned, fmt.Errorf("cached policy v%d: %w", sp.Version, err)
	}
	return p, next, nil
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
	cur := a.policy.Load()
	if cur.Result(d) {
		// The same push, already applied from another lane.
		return wire.PolicyAck{Version: cur.Version(), Applied: cur.Version()}
	}
	s, err := cur.Patch(d)
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
		put := a.store.ApplyPolicy
		if a.policyProblem.Load() != nil {
			put = a.store.RepairPolicy // the damaged bundle may be of this very version
		}
		err = put(raw, p.Version(), routes, trust, time.Now())
	}
	if err != nil {
		a.log.Error("storing policy failed; the last good policy stays in force", "version", p.Version(), "err", err)
		return wire.PolicyAck{Version: p.Version(), Applied: applied, Error: "store: " + err.Error()}
	}
	a.policy.Store(p)
	a.policyProblem.Store(nil)
	if p.Rotates() {
		a.log.Info("ops keys rotated by the policy: later bundles must be signed by the announced keys", "version", p.Version(), "keys", len(next.Keys), "threshold", next.Threshold)
	}
	a.trust = next
	a.log.Info("policy applied", "version", p.Version(), "previous", applied, "expires", p.Expires())
	return wire.PolicyAck{Version: p.Version(), Applied: p.Version()}
}

// noPolicyDetail tells a local system why no policy is in force.
func (a *Appliance) noPolicyDetail() string {
	if a.policyProblem.Load() != nil {
		return "This appliance's cached policy was refused as damaged; it waits for the exchange to push a good one."
	}
	return "This appliance has not received a policy from the exchange yet."
}
