package lab

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// TestPolicySourceIsTheDefaultPolicy: the YAML the lab hands to the ops
// commands says what DefaultPolicy builds, so that tests signing either
// test the same federation: with the appliances' keys, and without one
// (written as the identifier alone, for policy check and sign to fill).
func TestPolicySourceIsTheDefaultPolicy(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	keys := map[ident.Appliance]string{
		CommuneHQ:  "sha256:" + strings.Repeat("a1", 32),
		RegistryDC: "sha256:" + strings.Repeat("d2", 32),
	}
	for _, k := range []map[ident.Appliance]string{keys, {RegistryDC: keys[RegistryDC]}} {
		got, err := policy.ParseSource("lab.yaml", []byte(PolicySource(7, k)), now)
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultPolicy(7, now, k)
		got.Issued, got.Expires = want.Issued, want.Expires
		a, b := canonical(t, got), canonical(t, want)
		if a != b {
			t.Errorf("PolicySource(7) parses to\n%s\nDefaultPolicy(7) is\n%s", a, b)
		}
	}
	if err := DefaultPolicy(7, now, keys).Validate(); err != nil {
		t.Errorf("the lab's policy with its keys: %v", err)
	}
	if err := DefaultPolicy(7, now, nil).Validate(); err == nil {
		t.Error("the lab's policy without keys validates")
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
