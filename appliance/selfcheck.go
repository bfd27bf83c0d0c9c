package appliance

import (
	"fmt"
	"time"

	"github.com/babgate/bab/console"
)

// selfChecks are the checks of bab doctor that the running appliance can
// make of itself, each with the fix office IT can apply; the checks of the
// machine (files, network, clock) stay with bab doctor, which the findings
// name.
func selfChecks(st Status, cs console.Status, now time.Time) []console.Finding {
	out := []console.Finding{{Check: "doctor", Verdict: "warn", Result: "the checks of the server itself (files, DNS, UDP, clock) need bab doctor",
		Fix: "on the server: sudo bab doctor"}}
	add := func(check, verdict, result, fix string) {
		out = append(out, console.Finding{Check: check, Verdict: verdict, Result: result, Fix: fix})
	}
	switch {
	case cs.Revoked:
		add("tunnel", "fail", "the exchange revoked this appliance", "ask central ops for a replace token and enroll again (bab enroll)")
	case !cs.Connected:
		add("tunnel", "fail", "no tunnel to the exchange is up: "+cs.LastError, "check the network and that UDP to the exchange is allowed out; run bab doctor")
	default:
		add("tunnel", "ok", "connected to the exchange since "+cs.Since.Format(time.RFC3339), "")
	}
	switch {
	case cs.Quarantine != "":
		add("attestation", "fail", "quarantined: "+cs.Quarantine, "ask central ops to check the boot state and accept it (bab-exchange appliance rebaseline)")
	case cs.Connected && !cs.Attested:
		add("attestation", "warn", "the exchange has not yet verified the boot state on this connection", "wait a few seconds; if it lasts, see bab status")
	case cs.Connected:
		add("attestation", "ok", "boot state verified by the exchange", "")
	}
	switch {
	case cs.PolicyProblem != "":
		add("policy", "fail", cs.PolicyProblem, "nothing while the tunnel is up: the exchange pushes the current policy")
	case cs.Pending:
		add("policy", "fail", "this appliance waits for central approval", "ask central ops to approve it (bab-exchange fleet approve)")
	case cs.PolicyVersion == 0:
		add("policy", "warn", "no policy received yet", "wait for the tunnel; central ops must have published a policy")
	case cs.PolicyExpired:
		add("policy", "fail", fmt.Sprintf("policy v%d expired", cs.PolicyVersion), "central ops must publish a new policy")
	case cs.PolicyNote != "":
		add("policy", "warn", cs.PolicyNote, "central ops should publish a new policy soon")
	default:
		add("policy", "ok", fmt.Sprintf("policy v%d in force", cs.PolicyVersion), "")
	}
	if exp := st.Certificate.NotAfter; !exp.IsZero() {
		if left := exp.Sub(now); left < time.Hour {
			add("certificate", "warn", "the tunnel certificate expires at "+exp.Format(time.RFC3339), "it renews over the tunnel; if the tunnel is down, restore it")
		} else {
			add("certificate", "ok", "the tunnel certificate is valid until "+exp.Format(time.RFC3339), "")
		}
	}
	return out
}
