package ratelimit

import (
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

var (
	commune = ident.MustMember("MA/MUN/RABAT")
	civil   = ident.MustService("MA/GOV/ETATCIVIL/civil-status")
	mail    = ident.MustService("MA/GOV/ETATCIVIL/mail")
)

// bundle is a policy whose rules are rules, at version v.
func bundle(v uint64, rules ...policy.Rule) *policy.Policy {
	return policy.Compile(&policy.Bundle{Version: v, Services: []policy.Service{{ID: civil}, {ID: mail}}, Rules: rules})
}

// TestPushKeepsAnUnchangedRulesBucket: a consumer spends its quota, then
// ops push a bundle that changes another rule and puts a new one first, so
// that the spent rule's index moves. The rule itself did not change, so
// neither may its count.
func TestPushKeepsAnUnchangedRulesBucket(t *testing.T) {
	spent := policy.Rule{Consumer: commune, Service: civil, Methods: []string{"GET"}, PathPrefixes: []string{"/citizens/"},
		Limits: []policy.Limit{{Requests: 2, PerSeconds: 86400}}}
	other := policy.Rule{Consumer: commune, Service: mail, Methods: []string{"POST"}, PathPrefixes: []string{"/"}}
	changed := other
	changed.Methods = []string{"POST", "PUT"}
	added := policy.Rule{Consumer: commune, Service: civil, Methods: []string{"POST"}, PathPrefixes: []string{"/echo"}}
	v1, v2 := bundle(1, spent, other), bundle(2, added, changed, spent)

	var l Limiter
	now := time.Unix(1_800_000_000, 0)
	rule, limits, err := v1.Grant(commune, civil, "GET", "/citizens/1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if ok, _ := l.Take(commune, v1.RuleKey(rule), limits, now); !ok {
			t.Fatalf("call %d within the quota refused", i+1)
		}
	}
	rule, limits, err = v2.Grant(commune, civil, "GET", "/citizens/1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Take(commune, v2.RuleKey(rule), limits, now.Add(time.Minute)); ok {
		t.Fatal("after a push that left the rule as it was, the spent quota allowed another call")
	}
}

// TestPushOfAChangedLimitStartsFresh: a rule whose quota ops changed, or
// whose grant they changed, is counted from zero under the new bundle; its
// other, unchanged limit keeps counting.
func TestPushOfAChangedLimitStartsFresh(t *testing.T) {
	rate, day := policy.Limit{Requests: 2, PerSeconds: 60}, policy.Limit{Requests: 2, PerSeconds: 86400}
	r := policy.Rule{Consumer: commune, Service: civil, Methods: []string{"GET"}, PathPrefixes: []string{"/citizens/"}, Limits: []policy.Limit{rate, day}}
	raised := r
	raised.Limits = []policy.Limit{rate, {Requests: 3, PerSeconds: 86400}}
	wider := r
	wider.PathPrefixes = []string{"/citizens/", "/echo"}
	now := time.Unix(1_800_000_000, 0)
	var l Limiter
	take := func(p *policy.Policy) bool {
		rule, limits, err := p.Grant(commune, civil, "GET", "/citizens/1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ok, _ := l.Take(commune, p.RuleKey(rule), limits, now)
		return ok
	}
	v1 := bundle(1, r)
	take(v1)
	take(v1)
	if take(v1) {
		t.Fatal("a third call within a day of 2")
	}
	// The day's quota is new, the minute's rate is not: its 2 are spent.
	if take(bundle(2, raised)) {
		t.Fatal("the unchanged rate forgot its count when the quota changed")
	}
	now = now.Add(time.Minute)
	if !take(bundle(2, raised)) {
		t.Fatal("the raised quota kept the old quota's count")
	}
	for range 2 {
		if !take(bundle(3, wider)) {
			t.Fatal("a rule that grants something else kept the old rule's count")
		}
	}
}
