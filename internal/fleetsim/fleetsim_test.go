package fleetsim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/internal/lab"
)

// TestFleetAcknowledgesPushes runs 50 real appliances against a lab's
// exchange: three pushes in a row (as deltas, whole, as deltas) each reach
// all of them within 5 s, and every appliance then enforces the last
// version.
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

	// deltas is how many pushes the exchange sent as deltas so far.
	deltas := func() int {
		fam, err := lab.Scrape(ctx, l.Exchange.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := fam.Value("bab_exchange_policy_deltas_total", "result", "sent")
		return int(v)
	}
	// Every appliance must hold the current bundle, as the exchange knows
	// it, before the first push: one still receiving it would get the
	// next one whole, not as a delta.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var acks exchange.PolicyAcks
		if err := l.Exchange.Call("GET", "/v1/policy/acks", nil, &acks); err != nil {
			t.Fatal(err)
		}
		if acks.Acked == n+f.others && acks.Connected == n+f.others {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the first push: %d of %d connected appliances acknowledged v%d", acks.Acked, acks.Connected, acks.Version)
		}
	}
	var last uint64
	for push, whole := range []bool{false, true, false} {
		before := deltas()
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		took, err := f.PushAndWait(pctx, whole)
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
		t.Logf("push %d (whole %v): v%d acknowledged by %d appliances in %s (%+v bytes)", push, whole, v, n, took, f.Sizes())
		// Every connected appliance holds the previous bundle, so each
		// gets a delta, unless the push asked for whole bundles. The
		// count is taken just after the write, so it may trail the ack.
		want := 0
		if !whole {
			want = n + f.others
		}
		got := before
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got = deltas(); got-before == want {
				break
			}
		}
		if got-before != want {
			t.Errorf("push %d (whole %v): %d deltas sent, want %d", push, whole, got-before, want)
		}
	}
	if sz := f.Sizes(); sz.Delta == 0 || sz.Delta >= sz.Whole {
		t.Errorf("sizes %+v: the delta should weigh less than the whole bundle", sz)
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
