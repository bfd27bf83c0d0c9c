package exchange

import (
	"fmt"
	"testing"

	"github.com/babgate/bab/ident"
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
