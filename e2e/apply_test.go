package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	astore "github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/boltdb"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
)

// An appliance that was off while ops pushed gets the latest bundle when
// it connects again, without anyone pushing again.
func TestOfflineApplianceCatchesUp(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	if err := l.Provider.Stop(); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for range 3 {
		v, err := l.Push(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = v
	}
	awaitVersion(t, l.Consumer, last)
	if err := l.StartAppliance(ctx, l.Provider); err != nil {
		t.Fatal(err)
	}
	awaitVersion(t, l.Provider, last)
}

// An appliance killed (SIGKILL) while it applies pushes restarts with one
// whole bundle and its routing table, old or new, never a mix; the bbolt
// file passes its consistency check.
func TestKilledMidApplyKeepsOneWholeBundle(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	for round := range 5 {
		// Each version routes the service to a differently named set, so a
		// routing table that does not match its bundle would show.
		done := make(chan error, 1)
		go func() {
			for i := range 20 {
				_, err := l.Push(ctx, func(b *policy.Bundle) {
					spare := ident.MustAppliance(fmt.Sprintf("%s:spare-%d-%d", lab.Registry, round, i))
					b.Appliances = append(b.Appliances, policy.Appliance{ID: spare, Key: madeUpKey(spare)})
					b.Routes[0].Appliances = append(b.Routes[0].Appliances, spare)
				})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		time.Sleep(time.Duration(20+round*15) * time.Millisecond)
		l.Provider.Kill()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		checkStore(t, l.Provider.StateDir)
		if err := l.StartAppliance(ctx, l.Provider); err != nil {
			t.Fatal(err)
		}
		if err := l.Provider.AwaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// checkStore opens a stopped appliance's state and checks that the stored
// bundle verifies, its version record matches it, and its routing table is
// the one derived from it.
func checkStore(t *testing.T, dir string) {
	t.Helper()
	st, err := astore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	boltdb.CheckOnCleanup(t, st.DB())
	sp, err := st.Policy()
	if err != nil || sp == nil {
		t.Fatalf("stored policy: %v", err)
	}
	s, err := policy.ParseSigned(sp.Signed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != sp.Version {
		t.Fatalf("bundle v%d stored with version record v%d", b.Version, sp.Version)
	}
	routes, err := st.Routes()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range b.Routes {
		want[r.Service.String()] = fmt.Sprint(r.Appliances)
	}
	if len(routes) != len(want) {
		t.Fatalf("routing table has %d services, bundle v%d has %d", len(routes), b.Version, len(want))
	}
	for svc, apps := range routes {
		if fmt.Sprint(apps) != want[svc] {
			t.Fatalf("route %s = %v, bundle v%d says %s", svc, apps, b.Version, want[svc])
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
