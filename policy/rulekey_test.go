package policy

import (
	"crypto/ed25519"
	"testing"
)

func TestRuleKeyIsTheGrantNotThePlace(t *testing.T) {
	b := labBundle()
	base := b.Rules[0]
	key := func(r Rule) RuleKey { return Compile(&Bundle{Rules: []Rule{r}}).RuleKey(0) }
	k := key(base)
	if k == (RuleKey{}) {
		t.Fatal("zero key for a rule")
	}
	same := base
	same.Methods = []string{base.Methods[1], base.Methods[0]}
	same.Limits = []Limit{{Requests: 1, PerSeconds: 1}}
	if key(same) != k {
		t.Error("reordered methods or other limits changed the key")
	}
	for name, change := range map[string]func(*Rule){
		"methods":     func(r *Rule) { r.Methods = []string{"GET"} },
		"paths":       func(r *Rule) { r.PathPrefixes = append(r.PathPrefixes, "/more") },
		"empty query": func(r *Rule) { r.Query = []string{} },
		"query":       func(r *Rule) { r.Query = []string{"cin"} },
		"purpose":     func(r *Rule) { r.Purpose = "benefit-eligibility" },
		"consumer":    func(r *Rule) { r.Consumer = b.Rules[2].Consumer },
	} {
		r := base
		r.Methods, r.PathPrefixes = append([]string(nil), base.Methods...), append([]string(nil), base.PathPrefixes...)
		change(&r)
		if key(r) == k {
			t.Errorf("changed %s, same key", name)
		}
	}
	// The same rule elsewhere in the bundle keeps its key.
	moved := Compile(&Bundle{Rules: []Rule{b.Rules[1], base}})
	if moved.RuleKey(1) != k || moved.RuleKey(2) != (RuleKey{}) || moved.RuleKey(-1) != (RuleKey{}) {
		t.Error("the key depends on the rule's place, or an index out of range has one")
	}
}

// A bundle verified over the previous one with its rules unchanged shares
// the compiled rules, keys included; a changed rule gets its new key.
func TestRuleKeysSurviveAReusedRulesSection(t *testing.T) {
	pub, priv := newKey(t, 1)
	trust := Trust{Keys: []ed25519.PublicKey{pub}}
	verify := func(b *Bundle, prev *Policy) *Policy {
		t.Helper()
		s, err := Sign(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.VerifyOver(trust, testNow, prev)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p3 := verify(labBundle(), nil)
	b := labBundle()
	b.Version = 4
	b.Services[0].Description = "changed"
	p4 := verify(b, p3)
	for i := range b.Rules {
		if p4.RuleKey(i) != p3.RuleKey(i) || p4.RuleKey(i) == (RuleKey{}) {
			t.Fatalf("rule %d: key %x, was %x", i, p4.RuleKey(i), p3.RuleKey(i))
		}
	}
	b.Version = 5
	b.Rules[0].Methods = []string{"GET"}
	p5 := verify(b, p4)
	if p5.RuleKey(0) == p4.RuleKey(0) || p5.RuleKey(1) != p4.RuleKey(1) {
		t.Fatal("a changed rule kept its key, or an unchanged one lost it")
	}
}
