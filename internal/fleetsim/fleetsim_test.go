package fleetsim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestFleetAcknowledgesPushes runs 50 real appliances against a lab's
// exchange: two pushes in a row each reach all of them within 5 s, and
// every appliance then enforces the second version.
func TestFleetAcknowledgesPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab and 50 appliances")
	}
	const n = 50
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Dir: filepath.Join(dir, "lab"), SoftwareKeys: true})
	if err != nil {
		t.Fatalf("start lab: %v", err)
	}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			t.Logf("exchange log:\n%s", tail(l.Exchange.Log()))
		}
	})
	f, err := Start(ctx, l, n, filepath.Join(dir, "fleet"))
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	defer f.Close()

	var last uint64
	for push := 1; push <= 2; push++ {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		took, err := f.PushAndWait(pctx)
		pcancel()
		if err != nil {
			t.Fatalf("push %d: %v", push, err)
		}
		sts := f.Statuses()
		v := sts[0].Policy.Version
		if v <= last {
			t.Fatalf("push %d: version %d is not above the previous %d", push, v, last)
		}
		last = v
		t.Logf("push %d: v%d acknowledged by %d appliances in %s (%d bytes)", push, v, n, took, f.Size())
	}
	sts := f.Statuses()
	if len(sts) != n {
		t.Fatalf("%d statuses, want %d", len(sts), n)
	}
	for _, st := range sts {
		if st.Policy.Version != last {
			t.Errorf("%s enforces v%d, want v%d", st.Appliance, st.Policy.Version, last)
		}
		if !strings.HasPrefix(st.Appliance, "MA/MUN/SIM") || st.Certificate.Key != "software" {
			t.Errorf("%s: unexpected identity (key %q)", st.Appliance, st.Certificate.Key)
		}
	}
	if _, errs, msg := f.Logs().Counts(); errs > 0 {
		t.Errorf("the appliances logged %d errors, the last: %s", errs, msg)
	}
}

func tail(s string) string {
	if len(s) > 6000 {
		s = "…" + s[len(s)-6000:]
	}
	return s
}
