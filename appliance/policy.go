package appliance

import (
	"bytes"
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
	b, err := s.Verify(verifiedBy, time.Now())
	if errors.Is(err, policy.ErrExpired) {
		a.log.Warn("the cached policy has expired", "version", sp.Version)
		b, err = s.Verify(verifiedBy, time.Time{})
	}
	if err != nil {
		return fmt.Errorf("cached policy v%d does not verify with the ops keys that accepted it: %w", sp.Version, err)
	}
	if a.trust, err = policy.TrustFromRecord(sp.Trust.Next, b.After(verifiedBy)); err != nil {
		return fmt.Errorf("cached policy v%d: %w", sp.Version, err)
	}
	a.policy.Store(policy.Compile(b))
	return nil
}

// Policy applies a bundle pushed by the exchange: signature by the pinned
// ops keys, a version strictly higher than the applied one, not expired.
// Only then is it stored (bundle and routing table in one transaction) and
// enforced. A rejected bundle leaves the last good one in force.
func (a *Appliance) Policy(signed []byte) wire.PolicyAck {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	var applied uint64
	cur := a.policy.Load()
	if cur != nil {
		applied = cur.Version()
	}
	b, err := a.verifyNew(signed, cur)
	if err != nil {
		offered := uint64(0)
		if b != nil {
			offered = b.Version
		}
		a.log.Warn("policy rejected; the last good policy stays in force", "offered", offered, "applied", applied, "reason", err)
		return wire.PolicyAck{Version: offered, Applied: applied, Error: err.Error()}
	}
	if b.Version == applied {
		return wire.PolicyAck{Version: b.Version, Applied: applied}
	}
	routes := map[string][]string{}
	for _, r := range b.Routes {
		for _, ap := range r.Appliances {
			routes[r.Service.String()] = append(routes[r.Service.String()], ap.String())
		}
	}
	next := b.After(a.trust)
	trust := store.Trust{VerifiedBy: policy.TrustRecord(a.trust), Next: policy.TrustRecord(next)}
	if err := a.store.ApplyPolicy(signed, b.Version, routes, trust, time.Now()); err != nil {
		a.log.Error("storing policy failed; the last good policy stays in force", "version", b.Version, "err", err)
		return wire.PolicyAck{Version: b.Version, Applied: applied, Error: "store: " + err.Error()}
	}
	a.policy.Store(policy.Compile(b))
	if _, rotated := b.Next(); rotated {
		a.log.Info("ops keys rotated by the policy: later bundles must be signed by the announced keys", "version", b.Version, "keys", len(next.Keys), "threshold", next.Threshold)
	}
	a.trust = next
	a.log.Info("policy applied", "version", b.Version, "previous", applied, "expires", b.Expires)
	return wire.PolicyAck{Version: b.Version, Applied: b.Version}
}

// verifyNew returns the decoded bundle whenever it could be read (so the
// ack can name the version) and an error if it must not be applied.
func (a *Appliance) verifyNew(signed []byte, cur *policy.Policy) (*policy.Bundle, error) {
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		// The bundle in force, delivered again (a reconnect, a second
		// tunnel): nothing to do. It is recognised before verification,
		// since a bundle that rotated the ops keys no longer verifies with
		// the keys now in force.
		if stored, _ := a.store.Policy(); stored != nil && bytes.Equal(stored.Signed, signed) {
			return cur.Bundle(), nil
		}
	}
	b, err := s.Verify(a.trust, time.Now())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return b, nil
	}
	if err := policy.CheckNewer(cur.Version(), b); err != nil {
		return b, err
	}
	return b, nil
}
