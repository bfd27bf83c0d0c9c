package ident

import "testing"

// Check agrees with MarshalText on valid, invalid and zero values, and a
// valid value allocates nothing.
func TestCheckAgreesWithMarshalText(t *testing.T) {
	type checker interface {
		Check() error
		MarshalText() ([]byte, error)
	}
	cases := []checker{
		MustMember("MA/GOV/DGSN"), Member{}, Member{Country: "ma", Class: "GOV", Code: "X"}, Member{Country: "MA", Class: "GOV", Code: "A/B"},
		MustService("MA/GOV/DGSN/civil-status"), Service{}, Service{Member: MustMember("MA/GOV/DGSN"), Name: "Civil"},
		MustAppliance("MA/GOV/DGSN:rabat-01"), Appliance{}, Appliance{Member: MustMember("MA/GOV/DGSN"), Name: "-x"},
	}
	for _, c := range cases {
		_, merr := c.MarshalText()
		cerr := c.Check()
		if (merr == nil) != (cerr == nil) || (merr != nil && merr.Error() != cerr.Error()) {
			t.Errorf("%#v: Check() = %v, MarshalText() error = %v", c, cerr, merr)
		}
	}
	a := MustAppliance("MA/GOV/DGSN:rabat-01")
	if n := testing.AllocsPerRun(100, func() { _ = a.Check() }); n != 0 {
		t.Errorf("Check of a valid appliance allocates %v times", n)
	}
}
