package exchange

import (
	"fmt"
	"testing"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

func TestStages(t *testing.T) {
	for _, bad := range []string{"", "group:x", "percent:0", "percent:100", "percent:ten", "member:rabat", "appliance:MA/MUN/RABAT"} {
		if _, err := ParseStage(bad); err == nil {
			t.Errorf("ParseStage(%q) accepted", bad)
		}
	}
	hq := ident.MustAppliance("MA/MUN/RABAT:hq")
	other := ident.MustAppliance("MA/MUN/SALE:hq")
	for _, c := range []struct {
		stage     string
		hq, other bool
	}{
		{"member:MA/MUN/RABAT", true, false},
		{"appliance:MA/MUN/SALE:hq", false, true},
	} {
		st, err := ParseStage(c.stage)
		if err != nil {
			t.Fatal(err)
		}
		if st.includes(hq) != c.hq || st.includes(other) != c.other || st.String() != c.stage {
			t.Errorf("%s: includes hq=%v other=%v, string %q", c.stage, st.includes(hq), st.includes(other), st.String())
		}
	}
	// A percentage picks about that share of a fleet, and a larger
	// percentage keeps the smaller one's picks. The picks must be the same
	// in every process (an exchange restart must not reshuffle a rollout),
	// so the exact count for this fixed fleet is pinned: a hash seeded per
	// process would miss it.
	ten, _ := ParseStage("percent:10")
	forty, _ := ParseStage("percent:40")
	picked := 0
	for i := range 2000 {
		a := ident.MustAppliance(fmt.Sprintf("MA/MUN/SIM%d:sim-%04d", i%10, i))
		if ten.includes(a) {
			picked++
			if !forty.includes(a) {
				t.Fatalf("%s is in the 10%% stage but not in the 40%% one", a)
			}
		}
	}
	if picked != 199 {
		t.Fatalf("percent:10 picked %d of these 2000, want the 199 it has always picked", picked)
	}
}

// TestPolicyForIsTheAssignment: the exchange enforces the bundle it
// assigned an appliance, whatever version the appliance reports.
func TestPolicyForIsTheAssignment(t *testing.T) {
	hq, dc := ident.MustAppliance("MA/MUN/RABAT:hq"), ident.MustAppliance("MA/GOV/ETATCIVIL:dc1")
	current := policy.Compile(&policy.Bundle{Version: 1})
	staged := policy.Compile(&policy.Bundle{Version: 2})
	var x Exchange
	x.policy.Store(current)
	x.staged.Store(&rollout{Stage: Stage{Appliance: dc.String()}, policy: staged})
	for _, c := range []struct {
		id       ident.Appliance
		claims   uint64
		assigned *policy.Policy
	}{
		{hq, 1, current}, {hq, 2, current}, {dc, 1, staged}, {dc, 2, staged}, {dc, 0, staged},
	} {
		s := &session{id: c.id}
		s.applied.Store(c.claims)
		if got := x.policyFor(s); got != c.assigned {
			t.Errorf("%s claiming v%d is enforced under v%d, want v%d", c.id, c.claims, got.Version(), c.assigned.Version())
		}
	}
	x.staged.Store(nil)
	if s := (&session{id: dc}); x.policyFor(s) != current {
		t.Error("after the rollout, the stage kept the staged bundle")
	}
}

func TestStageIncludesDoesNotAllocate(t *testing.T) {
	id := ident.MustAppliance("MA/MUN/RABAT:hq")
	for _, st := range []Stage{{Member: "MA/MUN/RABAT"}, {Appliance: "MA/MUN/RABAT:hq"}, {Percent: 50}} {
		if n := testing.AllocsPerRun(100, func() { st.includes(id) }); n != 0 {
			t.Errorf("%s: %v allocations per check, want 0", st, n)
		}
	}
	if (Stage{Appliance: "MA/MUN/RABAT:hq2"}).includes(id) || (Stage{Member: "MA/MUN/RABA"}).includes(id) {
		t.Error("a stage of another appliance or member includes hq")
	}
}
