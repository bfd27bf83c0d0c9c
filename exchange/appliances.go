package exchange

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// ApplianceDetail is what ops see of one appliance: the fleet row plus its
// TPM identity and boot state, recorded and last seen.
type ApplianceDetail struct {
	ApplianceView
	KeyKind       string         `json:"key_kind"`
	EnrolledAt    time.Time      `json:"enrolled_at"`
	EKHash        string         `json:"ek_hash,omitempty"`
	PCRs          []int          `json:"pcrs,omitempty"`
	Baseline      map[int][]byte `json:"baseline,omitempty"`
	LastPCRs      map[int][]byte `json:"last_pcrs,omitempty"`
	Differ        []int          `json:"differ,omitempty"` // PCRs where the last values are not the baseline
	QuarantinedAt time.Time      `json:"quarantined_at,omitzero"`
	// AttestRTT is how long the last check took, challenge to verdict.
	AttestRTT time.Duration `json:"attest_rtt_ns,omitempty"`
	// Denied are the keys and certificates of this name that are refused
	// for good (the registered key is the view's KeyHash).
	RevokedAt time.Time      `json:"revoked_at,omitzero"`
	Denied    []store.Denial `json:"denied,omitempty"`
}

// ErrNoQuote means a re-baseline was asked for an appliance that has not
// sent a verified quote yet, so there is no new state to accept.
var ErrNoQuote = errors.New("this appliance has sent no verified quote yet; wait until it connects and is checked")

// Appliance returns one appliance's detail.
func (x *Exchange) Appliance(id string) (*ApplianceDetail, error) {
	if _, err := ident.ParseAppliance(id); err != nil {
		return nil, err
	}
	fleet, err := x.Fleet()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(fleet, func(v ApplianceView) bool { return v.ID == id })
	if i < 0 {
		return nil, store.ErrUnknownAppliance
	}
	a, err := x.store.Appliance(id)
	if err != nil {
		return nil, err
	}
	denied, err := x.store.Denials(id)
	if err != nil {
		return nil, err
	}
	d := &ApplianceDetail{ApplianceView: fleet[i], KeyKind: a.KeyKind, EnrolledAt: a.EnrolledAt, EKHash: a.EKHash,
		PCRs: a.PCRs, Baseline: a.Baseline, LastPCRs: a.LastPCRs, QuarantinedAt: a.QuarantinedAt, AttestRTT: a.LastAttestRTT,
		RevokedAt: a.RevokedAt, Denied: denied}
	if a.LastPCRs != nil {
		d.Differ = attest.Baseline(a.Baseline).Diff(a.LastPCRs)
	}
	return d, nil
}

// Rebaseline accepts an appliance's last verified boot state as its new
// baseline, after a legitimate firmware, bootloader or kernel update, and
// checks it again at once so the quarantine lifts within a round trip.
func (x *Exchange) Rebaseline(id string) (*ApplianceDetail, error) {
	_, err := x.store.UpdateAppliance(id, func(a *store.Appliance) error {
		if a.KeyKind != "tpm" {
			return fmt.Errorf("%s uses a software key: it has no boot state to accept", id)
		}
		if a.LastPCRs == nil {
			return ErrNoQuote
		}
		a.Baseline = a.LastPCRs
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.log.Info("new baseline accepted by ops", "appliance", id)
	for _, s := range x.allSessions() {
		if s.id.String() == id {
			s.kickNow()
		}
	}
	return x.Appliance(id)
}

// Revoke takes an appliance out for good: its key and the certificates the
// exchange accepted for it go on the deny list, which no enrollment clears,
// and its tunnels are closed now with the revoked code, so that it can say
// why. The name stays taken: a new appliance is enrolled under it only
// with a token ops make with --replace, and the revoked key never comes
// back.
func (x *Exchange) Revoke(id string) (*ApplianceDetail, error) {
	a, err := x.store.Revoke(id, time.Now(), "revoked by ops")
	if err != nil {
		return nil, err
	}
	for _, s := range x.allSessions() {
		if s.id.String() == id {
			s.conn.CloseWithError(wire.CloseRevoked, "revoked by the exchange: revoked by ops on "+a.RevokedAt.Format(time.DateOnly))
		}
	}
	x.log.Warn("appliance revoked by ops", "appliance", id, "key", a.KeyHash, "serial", a.CertSerial)
	return x.Appliance(id)
}
