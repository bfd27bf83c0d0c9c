package boltdb

import (
	"maps"
	"testing"
)

// ReplaceAll makes its map the bucket's whole content, which ReadAll gives
// back after the file is closed and opened again (both stores keep their
// quota counts this way).
func TestReplaceAllSurvivesReopen(t *testing.T) {
	dir, name := t.TempDir(), []byte("limits")
	db, err := Open(dir, "test.db", [][]byte{name}, errTestLocked)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(db, name); err != nil || len(got) != 0 {
		t.Fatalf("fresh bucket: %v, %v", got, err)
	}
	if err := ReplaceAll(db, name, map[string][]byte{"a": {1}, "b": {2}}); err != nil {
		t.Fatal(err)
	}
	second := map[string][]byte{"b": {3}}
	if err := ReplaceAll(db, name, second); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(dir, "test.db", [][]byte{name}, errTestLocked); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := ReadAll(db, name); err != nil || !maps.EqualFunc(got, second, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("after a reopen: %v, %v; want only %v", got, err, second)
	}
}
