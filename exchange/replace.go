package exchange

import (
	"fmt"
	"time"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// carryOver keeps, in the entry of an appliance enrolled in place of old,
// what ops decided about the name, so that enrolling again does not wash
// it away: the boot-state baseline (unless the token sets golden values,
// which are ops' decision for the new machine) and the quarantine. An
// enrollment whose boot state is not that baseline starts quarantined.
// Only a verified quote that matches the baseline, or ops accepting a new
// one (appliance rebaseline), lift the quarantine.
func carryOver(a, old *store.Appliance, golden, pcrs map[int][]byte, now time.Time) {
	if a.KeyKind != "tpm" {
		return // old had a software key too (see register): no boot state
	}
	if old.Baseline != nil && len(golden) == 0 {
		a.PCRs, a.Baseline = old.PCRs, old.Baseline
	}
	a.LastPCRs = pcrs // verified at enrollment; what a rebaseline would accept
	if old.Quarantined {
		a.Quarantined, a.QuarantinedAt = true, old.QuarantinedAt
		a.QuarantineReason = "kept from the appliance it replaced: " + old.QuarantineReason
	}
	if diff := attest.Baseline(a.Baseline).Diff(pcrs); len(diff) > 0 && !a.Quarantined {
		a.Quarantined, a.QuarantinedAt = true, now.UTC()
		a.QuarantineReason = fmt.Sprintf("the boot state at enrollment differs from the baseline kept from the appliance it replaced in PCR %v", diff)
	}
}

// closeReplaced closes the tunnels of id that another key than key opened:
// the appliance enrolled in place of it has that key now.
func (x *Exchange) closeReplaced(id ident.Appliance, key string) {
	for _, s := range x.allSessions() {
		if s.id == id && s.keyHash != key {
			s.conn.CloseWithError(wire.CloseRevoked, fmt.Sprintf("revoked by the exchange: another appliance was enrolled as %s in place of this key", id))
		}
	}
	x.log.Warn("appliance enrolled in place of another; the replaced key and certificates are refused from now on", "appliance", id.String(), "key", key)
}
