package exchange

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/wire"
)

// quoteTimeout bounds how long an appliance may take to answer a check; a
// real TPM quotes in well under a second.
const quoteTimeout = 30 * time.Second

// attestLoop checks a TPM appliance's boot state when its tunnel comes up
// and every interval after that, and whenever ops ask (kick). Each verdict
// is recorded in the registry and told to the appliance.
func (x *Exchange) attestLoop(ctx context.Context, s *session) {
	for {
		x.attestOnce(ctx, s)
		select {
		case <-ctx.Done():
			return
		case <-time.After(x.attestInterval()):
		case <-s.kick:
		}
	}
}

// attestInterval is the policy's, when it sets one, else the exchange's
// configured interval. A new policy takes effect from the next check.
func (x *Exchange) attestInterval() time.Duration {
	if p := x.policy.Load(); p != nil && p.AttestInterval() > 0 {
		return p.AttestInterval()
	}
	return x.cfg.Attestation.Interval
}

func (x *Exchange) attestOnce(ctx context.Context, s *session) {
	reg, err := x.store.Appliance(s.id.String())
	if err != nil {
		s.log.Error("attestation: registry", "err", err)
		return
	}
	nonce := make([]byte, 32)
	_, _ = rand.Read(nonce)
	sent := time.Now()
	if err := s.send(wire.FrameAttest, wire.Attest{Nonce: nonce, PCRs: reg.PCRs}); err != nil {
		return // the tunnel is going away; the next connection is checked again
	}
	var q *wire.Quote
	timer := time.NewTimer(quoteTimeout)
	defer timer.Stop()
	for q == nil {
		select {
		case got := <-s.quotes:
			if string(got.Nonce) == string(nonce) {
				q = &got
			}
		case <-timer.C:
			q = &wire.Quote{Error: fmt.Sprintf("no answer to the attestation check within %s", quoteTimeout)}
		case <-ctx.Done():
			return
		}
	}
	now := time.Now().UTC()
	var reason string
	var values map[int][]byte
	a, err := x.store.UpdateAppliance(s.id.String(), func(a *store.Appliance) error {
		if a.KeyHash != s.keyHash {
			// Another appliance was enrolled in place of this tunnel's key,
			// which is being closed: its verdict is not the new one's.
			return ErrRegistryChanged
		}
		values, reason = verdict(a, q, nonce)
		a.LastAttested = now
		a.LastAttestRTT = time.Since(sent)
		if values != nil {
			a.LastPCRs = values
		}
		if reason != "" && !a.Quarantined {
			a.QuarantinedAt = now
		}
		a.Quarantined, a.QuarantineReason = reason != "", reason
		return nil
	})
	if err != nil {
		s.log.Error("attestation: record verdict", "err", err)
		return
	}
	was := s.quarantined.Swap(a.Quarantined)
	s.attested.Store(true)
	if a.Quarantined {
		x.metrics.attestationsQuar.Inc()
	} else {
		x.metrics.attestationsOK.Inc()
	}
	switch {
	case a.Quarantined && !was:
		s.log.Warn("appliance quarantined", "reason", reason)
	case !a.Quarantined && was:
		s.log.Info("appliance attested; quarantine lifted")
	default:
		s.log.Debug("appliance attested", "quarantined", a.Quarantined)
	}
	_ = s.send(wire.FrameAttested, wire.Attested{Quarantined: a.Quarantined, Reason: a.QuarantineReason})
}

// verdict checks a quote against the appliance's AK and baseline. It
// returns the verified PCR values (nil if the quote did not verify) and
// the reason for quarantine, or "" when the boot state is the baseline.
func verdict(a *store.Appliance, q *wire.Quote, nonce []byte) (map[int][]byte, string) {
	if q.Error != "" {
		return nil, q.Error
	}
	ak, err := attest.ParseAK(a.AKArea)
	if err != nil {
		return nil, "the registered attestation key is unusable: " + err.Error()
	}
	values, err := attest.VerifyQuote(ak, attest.Quote{Attest: q.Attest, Signature: q.Signature, PCRs: q.PCRValues}, nonce, a.PCRs)
	if err != nil {
		return nil, "the quote does not verify: " + err.Error()
	}
	if diff := attest.Baseline(a.Baseline).Diff(values); len(diff) > 0 {
		return values, fmt.Sprintf("boot state differs from the baseline in PCR %v", diff)
	}
	return values, ""
}

// kickAttestation makes every connected appliance's check run now and pick
// up the current interval.
func (x *Exchange) kickAttestation() {
	for _, s := range x.allSessions() {
		s.kickNow()
	}
}

// kickNow asks for a check now; one pending request is enough.
func (s *session) kickNow() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
