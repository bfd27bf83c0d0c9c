package exchange

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// PushResult says what a push did.
type PushResult struct {
	Version  uint64    `json:"version"`
	Expires  time.Time `json:"expires"`
	PushedTo int       `json:"pushed_to"` // connected appliances it was sent to
}

// Push verifies a signed bundle with the ops keys, makes it current and
// sends it to every connected appliance at once. Appliances that are
// offline get it when they reconnect.
func (x *Exchange) Push(signed []byte) (*PushResult, error) {
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return nil, err
	}
	b, err := s.Verify(x.trust, time.Now())
	if err != nil {
		return nil, err
	}
	if cur := x.policy.Load(); cur != nil {
		if err := policy.CheckNewer(cur.Version(), b); err != nil {
			return nil, err
		}
	}
	if err := x.store.SetPolicy(signed, b.Version); err != nil {
		return nil, err
	}
	compiled := policy.Compile(b)
	old := x.policy.Swap(compiled)
	x.signed.Store(&signed)
	if old == nil || old.AttestInterval() != compiled.AttestInterval() {
		x.kickAttestation() // the loops wait on the old interval
	}
	n := 0
	for _, ss := range x.allSessions() {
		if ss.applied.Load() < b.Version {
			n++
			go x.pushTo(ss, signed)
		}
	}
	x.log.Info("policy pushed", "version", b.Version, "expires", b.Expires, "pushed_to", n)
	return &PushResult{Version: b.Version, Expires: b.Expires, PushedTo: n}, nil
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
	x.mu.Lock()
	defer x.mu.Unlock()
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

func (x *Exchange) pushTo(s *session, signed []byte) {
	if err := s.send(wire.FramePolicy, wire.Policy{Bundle: json.RawMessage(signed)}); err != nil {
		s.log.Warn("policy push failed; the appliance gets it on reconnect", "err", err)
	}
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
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]ApplianceView, 0, len(regs))
	for _, r := range regs {
		v := ApplianceView{ID: r.ID, Member: r.Member, CertExpiry: r.CertExpiry, Attestation: attestationState(&r),
			QuarantineReason: r.QuarantineReason, LastAttested: r.LastAttested}
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
				if e := s.ackErr.Load(); e != nil {
					v.PolicyError = *e
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}
