package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
)

// RuleKey names what a rule grants, whatever its place among the bundle's
// rules: a hash of its consumer, service, methods, path prefixes, query
// names and purpose (not its limits). Rate limiting counts calls by it, so
// that a bundle that leaves a rule as it was keeps the rule's counts, even
// when rules before it were added or removed.
type RuleKey [16]byte

// RuleKey returns the key of the rule at index rule (as [Policy.Grant]
// returns it), or the zero key for an index that is not a rule's. The keys
// are computed when the policy is compiled, so this is an index lookup.
func (p *Policy) RuleKey(rule int) RuleKey {
	if p == nil || rule < 0 || rule >= len(p.ruleKeys) {
		return RuleKey{}
	}
	return p.ruleKeys[rule]
}

// ruleKeys computes the key of each rule.
func ruleKeys(rules []Rule) []RuleKey {
	keys := make([]RuleKey, len(rules))
	h := sha256.New()
	for i := range rules {
		h.Reset()
		keys[i] = ruleKeyOf(h, &rules[i])
	}
	return keys
}

// ruleKeyOf hashes r's grant. Lists are hashed sorted, since their order
// does not change what the rule allows; a query list that is absent (any
// query) differs from an empty one (none).
func ruleKeyOf(h hash.Hash, r *Rule) RuleKey {
	count := func(n int) {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(n))
		h.Write(b[:])
	}
	field := func(s string) {
		count(len(s))
		h.Write([]byte(s))
	}
	list := func(l []string) {
		count(len(l))
		for _, s := range slices.Sorted(slices.Values(l)) {
			field(s)
		}
	}
	field("bab-rule-v1")
	field(r.Consumer.String())
	field(r.Service.String())
	list(r.Methods)
	list(r.PathPrefixes)
	if r.Query == nil {
		field("any query")
	} else {
		field("only")
		list(r.Query)
	}
	field(r.Purpose)
	var k RuleKey
	copy(k[:], h.Sum(nil))
	return k
}
