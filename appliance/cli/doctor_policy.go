package cli

import (
	"fmt"
	"time"

	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/store"
)

// repairFix is what to do about a cached policy that does not verify: the
// exchange pushes the current policy to an appliance that connects without
// it, and the appliance stores it in place of the bad one.
const repairFix = "nothing to do while the tunnel is up: the exchange pushes the current policy and the appliance stores it in place of the refused one; if it lasts, check the tunnel (bab status) and the journal (journalctl -u bab)"

// checkPolicy says whether a valid policy is in force: as the running
// service reports it, or else as the state file holds it, checked the way
// the service would at its start.
func (s *subject) checkPolicy(stateDir string) finding {
	const check = "policy"
	if st := s.running; st != nil {
		switch {
		case st.Policy.Problem != "":
			return finding{check: check, result: st.Policy.Problem, v: fail, fix: repairFix}
		case st.Policy.Version == 0:
			return finding{check: check, result: "none received yet: requests are refused (no_policy)", v: warn,
				fix: "wait for the tunnel to come up (bab status); central ops must have published a policy"}
		}
		return finding{check: check, result: fmt.Sprintf("v%d in force", st.Policy.Version)}
	}
	if s.id == nil {
		return finding{check: check, result: "not checked: needs the appliance's identity (see above)", v: warn}
	}
	st, err := store.Open(stateDir)
	if err != nil {
		return finding{check: check, result: "not checked: " + err.Error(), v: warn}
	}
	defer st.Close()
	sp, err := st.Policy()
	switch {
	case err != nil:
		return finding{check: check, result: "the cached policy cannot be read: " + err.Error(), v: fail, fix: repairFix}
	case sp == nil:
		return finding{check: check, result: "none cached yet: the exchange pushes one when the appliance connects", v: warn}
	}
	pinned, err := appliance.PinnedTrust(s.id)
	if err == nil {
		_, _, err = appliance.VerifyCached(sp, pinned, time.Now())
	}
	if err != nil {
		return finding{check: check, result: "the cached policy is refused: " + err.Error() + "; the service will start without a policy", v: fail, fix: repairFix}
	}
	return finding{check: check, result: fmt.Sprintf("cached v%d verifies with the ops keys", sp.Version)}
}
