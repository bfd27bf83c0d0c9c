package store_test

import (
	"bytes"
	"errors"
	"github.com/babgate/bab/internal/boltdb"
	"reflect"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/store"
)

// openTest opens a store in a fresh directory; see openAt.
func openTest(t *testing.T) *store.Store {
	t.Helper()
	return openAt(t, t.TempDir())
}

// openAt opens the store in dir and, when the test ends, checks the file's
// consistency before closing it: a transaction that left the B+tree broken
// fails the test that made it, not a later one.
func openAt(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	boltdb.CheckOnCleanup(t, s.DB())
	return s
}

func testIdentity() *store.Identity {
	return &store.Identity{
		Appliance:       "MA/MUN/RABAT:hq",
		KeyKind:         "file",
		KeyBlob:         []byte{1, 2, 3},
		Chain:           [][]byte{[]byte("leaf"), []byte("intermediate")},
		CA:              []byte("ca"),
		OpsKeys:         [][]byte{[]byte("ops-1"), []byte("ops-2")},
		PolicyThreshold: 2,
		Exchanges:       []string{"127.0.0.1:7700", "127.0.0.2:7700"},
		EnrolledAt:      time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
	}
}

func TestNotEnrolled(t *testing.T) {
	s := openTest(t)
	if id, err := s.Identity(); !errors.Is(err, store.ErrNotEnrolled) || id != nil {
		t.Errorf("Identity() = %v, %v; want nil, ErrNotEnrolled", id, err)
	}
	if err := s.UpdateChain([][]byte{[]byte("leaf")}); !errors.Is(err, store.ErrNotEnrolled) {
		t.Errorf("UpdateChain before enrollment = %v, want ErrNotEnrolled", err)
	}
	// UpdateChain must not have created a half identity.
	if _, err := s.Identity(); !errors.Is(err, store.ErrNotEnrolled) {
		t.Errorf("Identity() after a refused UpdateChain = %v, want ErrNotEnrolled", err)
	}
}

// TestIdentityRoundTrip also reopens the file: the identity is what lets a
// restarted appliance reconnect without enrolling again.
func TestIdentityRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	want := testIdentity()
	if err := s.SetIdentity(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Identity()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Identity() = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = openAt(t, dir).Identity()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Identity() after reopening = %+v, %v; want %+v", got, err, want)
	}
}

func TestUpdateChain(t *testing.T) {
	s := openTest(t)
	if err := s.SetIdentity(testIdentity()); err != nil {
		t.Fatal(err)
	}
	renewed := [][]byte{[]byte("renewed leaf")}
	if err := s.UpdateChain(renewed); err != nil {
		t.Fatal(err)
	}
	got, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	want := testIdentity()
	want.Chain = renewed
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after UpdateChain Identity() = %+v, want %+v (only the chain changed)", got, want)
	}
}

// policyState is everything ApplyPolicy writes, read back.
type policyState struct {
	signed  []byte
	version uint64
	at      time.Time
	routes  map[string][]string
}

func readPolicy(t *testing.T, s *store.Store) policyState {
	t.Helper()
	p, err := s.Policy()
	if err != nil {
		t.Fatalf("Policy(): %v", err)
	}
	routes, err := s.Routes()
	if err != nil {
		t.Fatalf("Routes(): %v", err)
	}
	if p == nil {
		return policyState{routes: routes}
	}
	return policyState{p.Signed, p.Version, p.AppliedAt, routes}
}

func TestPolicyNone(t *testing.T) {
	got := readPolicy(t, openTest(t))
	if got.signed != nil || len(got.routes) != 0 {
		t.Errorf("a fresh store holds a policy: %+v", got)
	}
}

func TestApplyPolicy(t *testing.T) {
	s := openTest(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123, time.FixedZone("WET", 3600))
	routes := map[string][]string{
		"MA/GOV/ETATCIVIL/civil-status": {"MA/GOV/ETATCIVIL:dc1", "MA/GOV/ETATCIVIL:dc2"},
		"MA/GOV/CNSS/rsu":               {"MA/GOV/CNSS:main"},
	}
	if err := s.ApplyPolicy([]byte("bundle v3"), 3, routes, store.Trust{}, at); err != nil {
		t.Fatal(err)
	}
	got := readPolicy(t, s)
	want := policyState{[]byte("bundle v3"), 3, at.UTC(), routes}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after ApplyPolicy:\n%+v\nwant\n%+v", got, want)
	}
}

// TestApplyPolicyStale checks that versions never go backwards and that a
// refused bundle changes nothing: neither the bundle nor the routes.
func TestApplyPolicyStale(t *testing.T) {
	s := openTest(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	routes := map[string][]string{"MA/GOV/ETATCIVIL/civil-status": {"MA/GOV/ETATCIVIL:dc1"}}
	if err := s.ApplyPolicy([]byte("bundle v5"), 5, routes, store.Trust{}, at); err != nil {
		t.Fatal(err)
	}
	want := readPolicy(t, s)
	for _, v := range []uint64{5, 4, 0} {
		err := s.ApplyPolicy([]byte("other bundle"), v, map[string][]string{"MA/GOV/CNSS/rsu": {"MA/GOV/CNSS:main"}}, store.Trust{}, at.Add(time.Hour))
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("ApplyPolicy(v%d) over v5 = %v, want ErrStale", v, err)
		}
		if got := readPolicy(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("a refused v%d changed the store:\n%+v\nwant\n%+v", v, got, want)
		}
	}
}

// TestRoutesReplaced checks that routes are replaced wholesale: a service
// the new policy no longer routes must disappear, or the appliance would
// keep sending requests to where the old policy pointed.
func TestRoutesReplaced(t *testing.T) {
	s := openTest(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		version uint64
		routes  map[string][]string
	}{
		{1, map[string][]string{"MA/GOV/ETATCIVIL/civil-status": {"MA/GOV/ETATCIVIL:dc1"}, "MA/GOV/CNSS/rsu": {"MA/GOV/CNSS:main"}}},
		{2, map[string][]string{"MA/GOV/ETATCIVIL/civil-status": {"MA/GOV/ETATCIVIL:dc2"}}},
		{3, map[string][]string{}},
		{4, map[string][]string{"MA/GOV/MEN/massar": {"MA/GOV/MEN:a", "MA/GOV/MEN:b"}}},
	}
	for _, st := range steps {
		if err := s.ApplyPolicy([]byte{byte(st.version)}, st.version, st.routes, store.Trust{}, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.Routes()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st.routes) {
			t.Errorf("after v%d Routes() = %v, want %v", st.version, got, st.routes)
		}
	}
	if p, _ := s.Policy(); p == nil || p.Version != 4 || !bytes.Equal(p.Signed, []byte{4}) {
		t.Errorf("Policy() = %+v, want v4", p)
	}
}

// TestLocked checks that a second process gets a clear error quickly
// instead of hanging on the file lock (bbolt's lock is per open file, so
// a second Open in one process stands in for a second process).
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	first := openAt(t, dir)
	start := time.Now()
	second, err := store.Open(dir)
	took := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a store in use succeeded")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if took > 2*time.Second {
		t.Errorf("second Open took %v to fail, want about a second", took)
	}
	// Once the holder lets go, the file opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openAt(t, dir)
}

// TestRepairPolicy: an appliance that refused its cached bundle may store
// a good one of the same version, never an older one.
func TestRepairPolicy(t *testing.T) {
	s := openTest(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.ApplyPolicy([]byte("damaged"), 5, nil, store.Trust{}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RepairPolicy([]byte("older"), 4, nil, store.Trust{}, at); !errors.Is(err, store.ErrStale) {
		t.Errorf("RepairPolicy(v4) over v5 = %v, want ErrStale", err)
	}
	if err := s.RepairPolicy([]byte("good"), 5, nil, store.Trust{}, at); err != nil {
		t.Fatalf("RepairPolicy(v5) over v5: %v", err)
	}
	if got := readPolicy(t, s); string(got.signed) != "good" {
		t.Errorf("stored %q after the repair, want the good bundle", got.signed)
	}
}

// Consoles are added once per name, revoked for good, and listed by name;
// the console CA is set once.
func TestConsoles(t *testing.T) {
	s := openTest(t)
	if ca, err := s.ConsoleCA(); err != nil || ca != nil {
		t.Fatalf("console CA before any: %v %v", ca, err)
	}
	first, err := s.SetConsoleCA(&store.ConsoleCA{Cert: []byte("c1"), Key: []byte("k1")})
	if err != nil || string(first.Cert) != "c1" {
		t.Fatal(first, err)
	}
	if again, err := s.SetConsoleCA(&store.ConsoleCA{Cert: []byte("c2")}); err != nil || string(again.Cert) != "c1" {
		t.Errorf("a second console CA replaced the first: %v %v", again, err)
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, n := range []string{"desk-3", "desk-1"} {
		if err := s.AddConsole(store.Console{Name: n, Role: "clerk", Serial: n, PairedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RevokeConsole("desk-3"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddConsole(store.Console{Name: "desk-3", Role: "clerk"}); !errors.Is(err, store.ErrConsoleExists) {
		t.Errorf("a revoked console's name was reused: %v", err)
	}
	if _, err := s.RevokeConsole("nobody"); !errors.Is(err, store.ErrNoConsole) {
		t.Errorf("revoking an unknown console: %v", err)
	}
	list, err := s.Consoles()
	if err != nil || len(list) != 2 || list[0].Name != "desk-1" || list[0].Revoked || !list[1].Revoked {
		t.Errorf("consoles %+v %v", list, err)
	}
}
