package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
)

// TestOpsKeyRotation: the current ops key signs a bundle announcing the
// next key; from then on only the new key is accepted, by the exchange and
// by the appliances, across restarts, and by appliances enrolled after the
// rotation.
func TestOpsKeyRotation(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	newPub, newKey, err := policy.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	// A token made before the rotation names the old key.
	early, err := l.CreateToken(lab.Commune, "early")
	if err != nil {
		t.Fatal(err)
	}
	// The civil registry's appliance is off during the whole rotation.
	if err := l.Provider.Stop(); err != nil {
		t.Fatal(err)
	}
	announce := l.DefaultPolicy(2, time.Now().UTC())
	announce.NextTrust = &policy.TrustSpec{Keys: [][]byte{newPub}, Threshold: 1}
	if err := pushBundle(l, announce, l.OpsKey); err != nil {
		t.Fatalf("announcing the rotation: %v", err)
	}
	awaitVersion(t, l.Consumer, 2)
	// An appliance enrolled now, between the announcement and the first
	// bundle signed by the new key, pins the trust that verifies the
	// current bundle (the old key), accepts it, and follows the rotation.
	dir := t.TempDir()
	tok, _ := l.CreateToken(lab.Commune, "")
	if out, err := enrollFresh(t, l, dir, tok, "late"); err != nil {
		t.Fatalf("enroll after the rotation: %v\n%s", err, out)
	}
	gw, _ := lab.FreeTCPPort()
	adm, _ := lab.FreeTCPPort()
	cfg := filepath.Join(dir, "bab.yaml")
	raw, _ := os.ReadFile(cfg)
	_ = os.WriteFile(cfg, append(raw, fmt.Sprintf("gateway:\n  listen: 127.0.0.1:%d\nadmin:\n  listen: 127.0.0.1:%d\n  socket: %s\nconsole:\n  socket: %s\n", gw, adm, filepath.Join(dir, "admin.sock"), filepath.Join(dir, "console.sock"))...), 0o644)
	late := exec.Command(filepath.Join(binDir, "bab"), "serve", "--config", cfg)
	if err := late.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = late.Process.Kill(); _ = late.Wait() }()
	// The old key alone no longer publishes.
	if err := pushBundle(l, l.DefaultPolicy(3, time.Now().UTC()), l.OpsKey); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("old key after the rotation: %v", err)
	}
	if err := pushBundle(l, l.DefaultPolicy(3, time.Now().UTC()), newKey); err != nil {
		t.Fatalf("new key after the rotation: %v", err)
	}
	awaitVersion(t, l.Consumer, 3)
	// From v3 on, new appliances pin the new key: the token made before
	// names the old one, and the exchange refuses it without spending it;
	// a token made now names the new key.
	if out, err := enrollFresh(t, l, t.TempDir(), early, "early"); err == nil || !strings.Contains(out, "token_wrong_ops_keys") {
		t.Fatalf("a token made before the rotation: %v\n%s", err, out)
	}
	again, _ := l.CreateToken(lab.Commune, "early")
	if again == early || strings.Split(again, ".")[3] == strings.Split(early, ".")[3] {
		t.Fatalf("the token made after the rotation names the same ops keys: %s, before %s", again, early)
	}
	if out, err := enrollFresh(t, l, t.TempDir(), again, "early"); err != nil {
		t.Fatalf("a token made after the rotation: %v\n%s", err, out)
	}
	// Back online, the registry's appliance gets the announcement it missed
	// and then v3, signed by a key it had never heard of.
	if err := l.StartAppliance(ctx, l.Provider); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	// Restarted, everyone still holds v3 and the new key's trust.
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.StartAppliance(ctx, l.Consumer); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := l.Consumer.Status(); st == nil || st.Policy.Version != 3 {
		t.Fatalf("consumer after restart: %+v", st)
	}
	if err := pushBundle(l, l.DefaultPolicy(4, time.Now().UTC()), newKey); err != nil {
		t.Fatalf("new key after restarts: %v", err)
	}
	if err := l.AwaitPolicy(ctx, 4); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		if resp, _ := do(t, l, "GET", "/citizens/8", nil, nil); resp.StatusCode != http.StatusOK {
			return errors.New("request under v4: " + resp.Status)
		}
		return nil
	})

	// The late appliance followed the rotation to v4.
	waitFor(t, 20*time.Second, func() error {
		out, err := exec.Command(filepath.Join(binDir, "bab"), "status", "--config", cfg).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Policy      v4") {
			return errors.New("late appliance: " + string(out))
		}
		return nil
	})

	// A rogue exchange holding only the old key cannot push to the
	// appliances either.
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.CommuneHQ.String())
	old, err := policySign(l.DefaultPolicy(9, time.Now().UTC()), l.OpsKey)
	if err != nil {
		t.Fatal(err)
	}
	if ack := s.push(t, old); ack.Error == "" || ack.Applied != 4 {
		t.Fatalf("old key pushed to a rotated appliance: %+v", ack)
	}
}

func awaitVersion(t *testing.T, a *lab.Appliance, v uint64) {
	t.Helper()
	waitFor(t, 10*time.Second, func() error {
		st, err := a.Status()
		if err != nil {
			return err
		}
		if st.Policy.Version < v {
			return fmt.Errorf("%s at v%d, waiting for v%d", a.ID, st.Policy.Version, v)
		}
		return nil
	})
}
