package exchange

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/boltdb"
	"github.com/babgate/bab/tracelog"
)

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	boltdb.CheckOnCleanup(t, st.DB())
	return st
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestSubjectKeys: the first start makes the key file (0600) and a key;
// the next start finds the same key; a rotation keeps the old one for
// reports; the state file never holds a key in clear; and a missing,
// foreign or open key file stops the exchange rather than lose reports.
func TestSubjectKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys", "subject.key")
	st := openStore(t, dir)
	k, err := loadSubjectKeys(st, file, quiet)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	id1, h1 := k.hash("MA-CIN:XY987654")
	if id1 != 1 || h1.IsZero() {
		t.Fatalf("hash = %d, %s", id1, h1)
	}
	if _, other := k.hash("MA-CIN:XY987655"); other == h1 {
		t.Fatal("two subjects hash alike")
	}
	again, err := loadSubjectKeys(st, file, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if id, h := again.hash("MA-CIN:XY987654"); id != 1 || h != h1 {
		t.Fatalf("after a restart: %d, %s; want 1, %s", id, h, h1)
	}
	if id, err := again.rotate(time.Now()); err != nil || id != 2 {
		t.Fatalf("rotate = %d, %v", id, err)
	}
	id2, h2 := again.hash("MA-CIN:XY987654")
	if hs := again.hashes("MA-CIN:XY987654"); id2 != 2 || h2 == h1 || len(hs) != 2 || hs[1] != h1 || hs[2] != h2 {
		t.Fatalf("after a rotation: %d, %s, %v", id2, h2, hs)
	}
	// The state file holds no key in clear.
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for id, key := range again.keys {
		if bytes.Contains(raw, key) {
			t.Errorf("the state file holds subject key %d in clear", id)
		}
	}

	// A missing key file, with keys sealed under it.
	if err := os.Rename(file, file+".bak"); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSubjectKeys(st, file, quiet); !errors.Is(err, ErrSubjectKeyFile) || !strings.Contains(err.Error(), "restore it") {
		t.Errorf("missing key file: %v", err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a new key file was made over the lost one")
	}
	// Another key file.
	if _, err := makeKEK(file); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSubjectKeys(st, file, quiet); !errors.Is(err, ErrSubjectKeyFile) || !strings.Contains(err.Error(), "not the file that sealed it") {
		t.Errorf("another key file: %v", err)
	}
	// The right one, readable by others.
	if err := os.Rename(file+".bak", file); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSubjectKeys(st, file, quiet); !errors.Is(err, ErrSubjectKeyFile) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key file others may read: %v", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	// Given up for good: a new file and a new key; the old keys are lost.
	if n, err := st.ForgetSubjectKeys(time.Now()); err != nil || n != 2 {
		t.Fatalf("forget = %d, %v", n, err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	k3, err := loadSubjectKeys(st, file, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := k3.hash("MA-CIN:XY987654"); id != 3 || len(k3.keys) != 1 {
		t.Errorf("after forgetting: key %d of %d", id, len(k3.keys))
	}
}

// TestDropUnusedSubjectKeys: a retired key goes once no record it hashed
// is kept and no request it hashed can still be in flight; the current
// key, and a retired one with records, stay.
func TestDropUnusedSubjectKeys(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	k, err := loadSubjectKeys(st, filepath.Join(dir, "subject.key"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	kid, h := k.hash("MA-CIN:XY987654")
	rec := tracelog.Record{At: t0, ID: "a", Consumer: "MA/MUN/RABAT:hq", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Outcome: "ok", SubjectKey: kid, SubjectHash: h}
	if _, err := st.AppendTrace([]store.TraceEntry{rec}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.rotate(t0); err != nil {
		t.Fatal(err)
	}
	if _, err := k.rotate(t0); err != nil { // key 2 retires at once, unused
		t.Fatal(err)
	}
	k.dropUnused(t0.Add(time.Minute), time.Hour) // too early: requests may be in flight
	if len(k.keys) != 3 {
		t.Fatalf("%d keys kept, want 3", len(k.keys))
	}
	k.dropUnused(t0.Add(2*time.Hour), time.Hour)
	if _, ok := k.keys[2]; ok || len(k.keys) != 2 {
		t.Fatalf("keys kept %v, want 1 (its record is kept) and 3 (current)", len(k.keys))
	}
	if _, err := st.PruneTrace(t0.Add(time.Second), 10); err != nil {
		t.Fatal(err)
	}
	k.dropUnused(t0.Add(2*time.Hour), time.Hour)
	if _, ok := k.keys[3]; !ok || len(k.keys) != 1 {
		t.Fatalf("keys kept %v, want only the current one", len(k.keys))
	}
	keys, _ := st.SubjectKeys()
	if keys[0].Sealed != nil || keys[0].Dropped.IsZero() {
		t.Errorf("key 1 in the state file: %+v", keys[0])
	}
}
