package fleetsim

import (
	"fmt"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
)

// Members is how many administrations the simulated appliances belong to,
// MA/MUN/SIM0 to MA/MUN/SIM9; appliance i belongs to SIM(i mod 10).
const Members = 10

// IDs names n simulated appliances: MA/MUN/SIM3:sim-00013 and so on.
func IDs(n int) []ident.Appliance {
	out := make([]ident.Appliance, n)
	for i := range out {
		out[i] = ident.Appliance{Member: member(i % Members), Name: fmt.Sprintf("sim-%05d", i)}
	}
	return out
}

func member(k int) ident.Member { return ident.MustMember(fmt.Sprintf("MA/MUN/SIM%d", k)) }

// Bundle is the lab's policy (with the keys it approved) with the
// simulated members and appliances, each bound to its key, added, so that
// its shape (members, services, rules, routes) stays what the lab's
// appliances expect.
func Bundle(l *lab.Lab, version uint64, now time.Time, sims []policy.Appliance) *policy.Bundle {
	b := l.DefaultPolicy(version, now)
	for k := range Members {
		b.Members = append(b.Members, policy.Member{ID: member(k), Name: fmt.Sprintf("Simulated commune %d", k)})
	}
	b.Appliances = append(b.Appliances, sims...)
	return b
}
