package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/lab"
)

// TestTunnelIdentityInFleet: ops see every live tunnel with the serial of
// the certificate it presented, in fleet ls and in fleet show.
func TestTunnelIdentityInFleet(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	serials := map[string]string{}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if err := a.Stop(); err != nil {
			t.Fatal(err)
		}
		serials[a.ID.String()] = serialOf(storedCert(t, a))
		if err := l.StartAppliance(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := a.AwaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exchangeCmd(l, "fleet", "ls")
	if err != nil {
		t.Fatalf("fleet ls: %v\n%s", err, out)
	}
	t.Logf("fleet ls:\n%s", out)
	for id, serial := range serials {
		if !hasLine(out, id, serial) {
			t.Errorf("fleet ls has no line with %s and its tunnel's serial %s", id, serial)
		}
		show, err := exchangeCmd(l, "fleet", "show", id)
		if err != nil {
			t.Fatalf("fleet show: %v\n%s", err, show)
		}
		if !hasLine(show, "Tunnel", serial) {
			t.Errorf("fleet show %s has no tunnel line with the serial %s:\n%s", id, serial, show)
		}
	}
}

// hasLine reports whether a line of out holds all of subs.
func hasLine(out string, subs ...string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			return true
		}
	}
	return false
}
