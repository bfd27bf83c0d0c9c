package appliance

import (
	"fmt"
	"strconv"
	"time"

	"github.com/babgate/bab/console"
)

// selfChecks are the checks of bab doctor that the running appliance can
// make of itself, each with the fix office IT can apply; the checks of the
// machine (files, network, clock) stay with bab doctor, which the findings
// name. Each has a code (console.FindingCodes) for the console to word.
func selfChecks(st Status, cs console.Status, now time.Time) []console.Finding {
	var out []console.Finding
	add := func(check, code, verdict, result, fix string, args map[string]string) {
		out = append(out, console.Finding{Check: check, Code: code, Args: args, Verdict: verdict, Result: result, Fix: fix})
	}
	add("doctor", "doctor.server", "warn", "the checks of the server itself (files, DNS, UDP, clock) need bab doctor", "on the server: sudo bab doctor", nil)
	switch {
	case cs.Revoked:
		add("tunnel", "tunnel.revoked", "fail", "the exchange revoked this appliance", "ask central ops for a replace token and enroll again (bab enroll)", nil)
	case !cs.Connected:
		add("tunnel", "tunnel.down", "fail", "no tunnel to the exchange is up: "+cs.LastError, "check the network and that UDP (or at least TCP) to the exchange's port is allowed out; run bab doctor", map[string]string{"Error": cs.LastError})
	default:
		add("tunnel", "tunnel.ok", "ok", "connected to the exchange since "+cs.Since.Format(time.RFC3339), "", map[string]string{"Since": cs.Since.Format(time.RFC3339)})
	}
	switch {
	case cs.Quarantine != "":
		add("attestation", "attestation.quarantined", "fail", "quarantined: "+cs.Quarantine, "ask central ops to check the boot state and accept it (bab-exchange appliance rebaseline)", map[string]string{"Reason": cs.Quarantine})
	case cs.Connected && !cs.Attested:
		add("attestation", "attestation.pending", "warn", "the exchange has not yet verified the boot state on this connection", "wait a few seconds; if it lasts, see bab status", nil)
	case cs.Connected:
		add("attestation", "attestation.ok", "ok", "boot state verified by the exchange", "", nil)
	}
	version := map[string]string{"Version": strconv.FormatUint(cs.PolicyVersion, 10)}
	switch {
	case cs.PolicyProblem != "":
		add("policy", "policy.refused", "fail", cs.PolicyProblem, "nothing while the tunnel is up: the exchange pushes the current policy", map[string]string{"Reason": cs.PolicyProblem})
	case st.Policy.OtherKey != "":
		// Worded by consoles as waiting for approval, which it is: of its key.
		add("policy", "policy.pending", "fail", "the policy binds this appliance's name to another key ("+st.Policy.OtherKey+"): it was re-enrolled or replaced since central ops approved it",
			"ask central ops to approve its key (bab-exchange fleet approve); if nobody re-enrolled or replaced it, tell them at once", nil)
	case cs.Pending:
		add("policy", "policy.pending", "fail", "this appliance waits for central approval", "ask central ops to approve it (bab-exchange fleet approve)", nil)
	case cs.PolicyVersion == 0:
		add("policy", "policy.none", "warn", "no policy received yet", "wait for the tunnel; central ops must have published a policy", nil)
	case cs.PolicyExpired:
		add("policy", "policy.expired", "fail", fmt.Sprintf("policy v%d expired", cs.PolicyVersion), "central ops must publish a new policy", version)
	case cs.PolicyNote != "":
		add("policy", "policy.expiring", "warn", cs.PolicyNote, "central ops should publish a new policy soon", map[string]string{"Until": cs.PolicyExpires.Format(time.RFC3339)})
	default:
		add("policy", "policy.ok", "ok", fmt.Sprintf("policy v%d in force", cs.PolicyVersion), "", version)
	}
	if exp := st.Certificate.NotAfter; !exp.IsZero() {
		until := map[string]string{"Until": exp.Format(time.RFC3339)}
		if exp.Sub(now) < time.Hour {
			add("certificate", "certificate.expiring", "warn", "the tunnel certificate expires at "+exp.Format(time.RFC3339), "it renews over the tunnel; if the tunnel is down, restore it", until)
		} else {
			add("certificate", "certificate.ok", "ok", "the tunnel certificate is valid until "+exp.Format(time.RFC3339), "", until)
		}
	}
	return out
}
