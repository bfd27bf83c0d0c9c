package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestNextOpsKeysFromSource(t *testing.T) {
	pub1, _, _ := GenerateKey()
	pub2, _, _ := GenerateKey()
	base := string(mustRead(t, "testdata/lab.yaml"))
	withKeys := func(threshold string, keys ...string) string {
		return strings.Replace(base, "members:", "next_ops_keys:\n  threshold: "+threshold+"\n  keys: ["+strings.Join(keys, ", ")+"]\nmembers:", 1)
	}
	b, err := ParseSource("p.yaml", []byte(withKeys("2", PublicKeyText(pub1), PublicKeyText(pub2))), testNow)
	if err != nil {
		t.Fatal(err)
	}
	next, ok := b.Next()
	if !ok || next.Threshold != 2 || len(next.Keys) != 2 || !next.Keys[1].Equal(pub2) {
		t.Fatalf("Next() = %+v, %v", next, ok)
	}
	cur := Trust{Keys: nil, Threshold: 1}
	if got := b.After(cur); got.Threshold != 2 {
		t.Fatalf("After = %+v", got)
	}
	if got := labBundle().After(cur); got.Threshold != 1 {
		t.Fatalf("a bundle without next_ops_keys changed the trust: %+v", got)
	}
	for _, c := range []struct{ src, want string }{
		{withKeys("3", PublicKeyText(pub1), PublicKeyText(pub2)), "between 1 and the 2 keys"},
		{withKeys("1", PublicKeyText(pub1), PublicKeyText(pub1)), "same key"},
		{withKeys("1", "c2hvcnQ="), "is 5 bytes"},
		{withKeys("1", "not base64!"), "as bab-exchange policy keygen prints it"},
		{withKeys("1"), "at least one ops key"},
	} {
		_, err := ParseSource("p.yaml", []byte(c.src), testNow)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "p.yaml:") {
			t.Errorf("want an error with %q and a line, got %v", c.want, err)
		}
		var se *SourceError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("not a SourceError: %v", err)
		}
	}
}
