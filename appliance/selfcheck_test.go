package appliance

import (
	"slices"
	"testing"
	"time"

	"github.com/babgate/bab/console"
)

// The appliance's checks of itself use exactly the codes the console
// words (console.FindingCodes): each state gives known codes, and every
// code is given by some state.
func TestSelfCheckCodes(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ok := console.Status{Connected: true, Attested: true, PolicyVersion: 3, Since: now.Add(-time.Hour)}
	states := []func(*console.Status, *Status){
		func(*console.Status, *Status) {},
		func(c *console.Status, _ *Status) { c.Revoked, c.Connected = true, false },
		func(c *console.Status, _ *Status) { c.Connected = false },
		func(c *console.Status, _ *Status) { c.Quarantine = "PCR 7" },
		func(c *console.Status, _ *Status) { c.Attested = false },
		func(c *console.Status, _ *Status) { c.PolicyProblem = "damaged" },
		func(c *console.Status, _ *Status) { c.Pending = true },
		func(c *console.Status, _ *Status) { c.PolicyVersion = 0 },
		func(c *console.Status, _ *Status) { c.PolicyExpired = true },
		func(c *console.Status, _ *Status) { c.PolicyNote = "expires in 3 days" },
		func(_ *console.Status, s *Status) { s.Certificate.NotAfter = now.Add(10 * time.Minute) },
	}
	seen := map[string]bool{}
	for i, f := range states {
		cs, st := ok, Status{Certificate: CertStatus{NotAfter: now.Add(20 * time.Hour)}}
		f(&cs, &st)
		for _, fd := range selfChecks(st, cs, now) {
			if !slices.Contains(console.FindingCodes, fd.Code) {
				t.Errorf("state %d: finding code %q is not in console.FindingCodes", i, fd.Code)
			}
			seen[fd.Code] = true
		}
	}
	for _, c := range console.FindingCodes {
		if !seen[c] {
			t.Errorf("no state gives the finding %q", c)
		}
	}
}
