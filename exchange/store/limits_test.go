package store

import (
	"maps"
	"testing"
)

func TestLimitCountersReplaced(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	if got, err := s.LimitCounters(); err != nil || len(got) != 0 {
		t.Fatalf("fresh store: %v, %v", got, err)
	}
	first := map[string][]byte{"a": {1}, "b": {2}}
	if err := s.SetLimitCounters(first); err != nil {
		t.Fatal(err)
	}
	second := map[string][]byte{"b": {3}}
	if err := s.SetLimitCounters(second); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, dir)
	if got, err := s.LimitCounters(); err != nil || !maps.EqualFunc(got, second, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("after a reopen: %v, %v; want only %v", got, err, second)
	}
}
