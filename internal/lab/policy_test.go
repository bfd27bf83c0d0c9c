package lab

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/babgate/bab/policy"
)

// TestPolicySourceIsTheDefaultPolicy: the YAML the lab hands to the ops
// commands says what DefaultPolicy builds, so that tests signing either
// test the same federation.
func TestPolicySourceIsTheDefaultPolicy(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	got, err := policy.ParseSource("lab.yaml", []byte(PolicySource(7)), now)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy(7, now)
	got.Issued, got.Expires = want.Issued, want.Expires
	a, b := canonical(t, got), canonical(t, want)
	if a != b {
		t.Errorf("PolicySource(7) parses to\n%s\nDefaultPolicy(7) is\n%s", a, b)
	}
}

// canonical is b as JSON with the keys of every object sorted (the
// OpenAPI documents are JSON objects whose key order YAML does not keep).
func canonical(t *testing.T, b *policy.Bundle) string {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
