package appliance

import (
	"errors"
	"time"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/wire"
)

// Attest answers the exchange's check with a quote from the TPM, made with
// the attestation key from enrollment.
func (a *Appliance) Attest(at wire.Attest) wire.Quote {
	q := wire.Quote{Nonce: at.Nonce}
	if a.tpm == nil || a.ak == nil {
		q.Error = "this appliance has no TPM attestation key (enrolled with a software key)"
		return q
	}
	got, err := a.tpm.Quote(a.ak, at.Nonce, at.PCRs)
	if err != nil {
		q.Error = "the TPM could not quote: " + err.Error()
		if errors.Is(err, tpm.ErrKeyUnusable) {
			q.Error += " (re-enroll with bab enroll --reenroll)"
		}
		a.log.Error("attestation quote failed", "subsys", "attest", "err", err)
		return q
	}
	q.Attest, q.Signature, q.PCRValues = got.Attest, got.Signature, got.PCRs
	return q
}

// Attested records the exchange's verdict; while quarantined the gateway
// refuses requests with appliance_quarantined.
func (a *Appliance) Attested(v wire.Attested) {
	a.attestedAt.Store(time.Now().UnixNano())
	var prev *string
	if v.Quarantined {
		reason := v.Reason
		prev = a.quarantine.Swap(&reason)
		if prev == nil {
			a.log.Warn("the exchange put this appliance in quarantine", "subsys", "attest", "reason", v.Reason)
		}
		return
	}
	if prev = a.quarantine.Swap(nil); prev != nil {
		a.log.Info("the exchange lifted the quarantine", "subsys", "attest")
	}
}
