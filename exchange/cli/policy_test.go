package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/golden"
	"github.com/babgate/bab/policy"
)

// keyOf is a key hash for an appliance of these tests.
func keyOf(id string) string {
	sum := sha256.Sum256([]byte("the key of " + id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// testSource lists four appliances: hq with its registered key, annex
// without a key (filled), dc1 with a key the registry no longer holds
// (replaced since), and, withKiosk, kiosk, which has not enrolled, and old,
// which ops revoked.
func testSource(withKiosk bool) string {
	kiosk := ""
	if withKiosk {
		kiosk = "  - MA/MUN/RABAT:kiosk\n  - MA/MUN/RABAT:old\n"
	}
	return `version: 8
expires: 2027-01-31T00:00:00Z
members:
  - id: MA/MUN/RABAT
    name: Commune de Rabat
  - id: MA/GOV/ETATCIVIL
    name: État civil
appliances:
  - id: MA/MUN/RABAT:hq
    key: ` + keyOf("MA/MUN/RABAT:hq") + `
  - MA/MUN/RABAT:annex
  - id: MA/GOV/ETATCIVIL:dc1
    key: ` + keyOf("MA/GOV/ETATCIVIL:dc1-old") + `
` + kiosk + `services:
  - id: MA/GOV/ETATCIVIL/civil-status
rules:
  - consumer: MA/MUN/RABAT
    service: MA/GOV/ETATCIVIL/civil-status
    methods: [GET]
    paths: [/citizens/]
routes:
  - service: MA/GOV/ETATCIVIL/civil-status
    appliances: [MA/GOV/ETATCIVIL:dc1]
`
}

// testFleet is the registry as the exchange lists it.
func testFleet() []exchange.ApplianceView {
	return []exchange.ApplianceView{
		{ID: "MA/MUN/RABAT:hq", KeyHash: keyOf("MA/MUN/RABAT:hq"), Connected: true},
		{ID: "MA/MUN/RABAT:annex", KeyHash: keyOf("MA/MUN/RABAT:annex"), Pending: true},
		{ID: "MA/GOV/ETATCIVIL:dc1", KeyHash: keyOf("MA/GOV/ETATCIVIL:dc1")},
		{ID: "MA/MUN/RABAT:old", KeyHash: keyOf("MA/MUN/RABAT:old"), Revoked: true},
	}
}

// TestPolicySignFillsKeys: policy sign --registry fills the keys the
// source leaves out from the file fleet ls -o json printed, says what it
// filled and what differs (on standard error: the bundle may go to
// standard output), and refuses to sign an appliance it cannot fill.
func TestPolicySignFillsKeys(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := policy.GenerateKey()
	key := filepath.Join(dir, "ops.key")
	write(t, key, policy.MarshalPrivateKey(priv))
	fleet, _ := json.MarshalIndent(testFleet(), "", "  ")
	reg := filepath.Join(dir, "fleet.json")
	write(t, reg, fleet)

	for _, c := range []struct {
		name      string
		withKiosk bool
		registry  bool
	}{
		{"sign-fills", false, true},
		{"sign-not-enrolled", true, true},
		{"sign-no-registry", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(dir, "policy.yaml")
			write(t, src, []byte(testSource(c.withKiosk)))
			args := []string{"--key", key}
			if c.registry {
				args = append(args, "--registry", "fleet.json")
			}
			var stdout, stderr bytes.Buffer
			t.Chdir(dir)
			err := policySign(append(args, "policy.yaml"), &stdout, &stderr)
			got := stderr.String()
			if err != nil {
				got += "error: " + err.Error() + "\n"
				if stdout.Len() > 0 {
					t.Errorf("a refused signature wrote %d bytes of bundle", stdout.Len())
				}
			}
			golden.Check(t, filepath.Join(testdataDir, "policy-"+c.name+".golden"), []byte(got))
			if err != nil {
				return
			}
			s, err := policy.ParseSigned(bytes.TrimSpace(stdout.Bytes()))
			if err != nil {
				t.Fatalf("the bundle on standard output: %v", err)
			}
			b, err := s.Verify(policy.Trust{Keys: []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"MA/MUN/RABAT:hq": keyOf("MA/MUN/RABAT:hq"), "MA/MUN/RABAT:annex": keyOf("MA/MUN/RABAT:annex"),
				"MA/GOV/ETATCIVIL:dc1": keyOf("MA/GOV/ETATCIVIL:dc1-old")} // a written key is ops' word
			p := policy.Compile(b)
			for id, k := range want {
				if got, _ := p.ApplianceKey(ident.MustAppliance(id)); got != k {
					t.Errorf("signed %s with key %s, want %s", id, got, k)
				}
			}
		})
	}
}

// TestPolicyCheckFillsKeys: policy check asks the running exchange for its
// registry and its current policy, says which keys it filled, which differ
// and which appliances are not enrolled, and diffs the filled bundle.
func TestPolicyCheckFillsKeys(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "admin.sock")
	_, priv, _ := policy.GenerateKey()
	curSrc := strings.Replace(testSource(false), "version: 8", "version: 7", 1)
	cur, err := policy.ParseSource("current.yaml", []byte(curSrc), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cur.Appliances = []policy.Appliance{cur.Appliances[0], cur.Appliances[2]} // v7: hq and dc1 with its old key
	cur.Appliances[1].Key = keyOf("MA/GOV/ETATCIVIL:dc1-old")
	s, err := policy.Sign(cur, priv)
	if err != nil {
		t.Fatal(err)
	}
	curRaw, _ := s.Marshal()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/appliances", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(testFleet()) })
	mux.HandleFunc("GET /v1/policy/bundle", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(curRaw) })
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	write(t, filepath.Join(dir, "ops.pub"), policy.MarshalPublicKey(priv.Public().(ed25519.PublicKey)))
	cfg := filepath.Join(dir, "bab-exchange.yaml")
	write(t, cfg, []byte(fmt.Sprintf("version: 1\nadmin_socket: %s\nops_keys: [ops.pub]\n", socket)))
	t.Chdir(dir)
	for _, c := range []struct {
		name      string
		withKiosk bool
	}{{"check-fills", false}, {"check-not-enrolled", true}} {
		t.Run(c.name, func(t *testing.T) {
			write(t, filepath.Join(dir, "policy.yaml"), []byte(testSource(c.withKiosk)))
			var out bytes.Buffer
			err := policyCheck(context.Background(), []string{"--config", cfg, "policy.yaml"}, &out)
			got := out.String()
			if err != nil {
				got += "error: " + err.Error() + "\n"
			}
			golden.Check(t, filepath.Join(testdataDir, "policy-"+c.name+".golden"), []byte(got))
		})
	}
}

// FuzzParseRegistry reads what ops hand policy sign --registry: refused,
// or a registry whose every key is written as the registry writes keys.
func FuzzParseRegistry(f *testing.F) {
	good, _ := json.Marshal(testFleet())
	f.Add(good)
	f.Add([]byte(`[{"id":"MA/MUN/RABAT:hq","key_hash":"sha256:00"}]`))
	f.Add([]byte(`[{"id":"MA/MUN/RABAT:hq"},{"id":"MA/MUN/RABAT:hq"}]`))
	f.Add([]byte(`[{"id":"ma/mun/rabat:hq","revoked":true}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRegistry(data)
		if err != nil {
			return
		}
		for id, k := range r.keys {
			if !policy.ValidKeyHash(k) || id.Check() != nil || r.revoked[id] || r.noKey[id] {
				t.Fatalf("registry entry %s: key %q, revoked %v, without key %v", id, k, r.revoked[id], r.noKey[id])
			}
		}
	})
}

// testdataDir is absolute: the tests change directory.
var testdataDir, _ = filepath.Abs("testdata")

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
