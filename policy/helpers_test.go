package policy

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
)

// testNow is the fixed "now" of the tests, before labBundle expires.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

var (
	dgsn        = ident.MustMember("MA/GOV/DGSN")
	rabat       = ident.MustMember("MA/MUN/RABAT")
	sale        = ident.MustMember("MA/MUN/SALE")
	civilStatus = ident.MustService("MA/GOV/DGSN/civil-status")
	passports   = ident.MustService("MA/GOV/DGSN/passports")
	rabatTax    = ident.MustService("MA/MUN/RABAT/tax")
	dgsnRabat01 = ident.MustAppliance("MA/GOV/DGSN:rabat-01")
	dgsnRabat02 = ident.MustAppliance("MA/GOV/DGSN:rabat-02")
	rabatHQ     = ident.MustAppliance("MA/MUN/RABAT:hq")
)

// labBundle returns a fresh valid bundle, the Go twin of testdata/lab.yaml
// plus a second service and consumer, for tests to break one piece at a time.
func labBundle() *Bundle {
	return &Bundle{
		Version: 3,
		Issued:  testNow.Add(-time.Hour),
		Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		Members: []Member{
			{ID: dgsn, Name: "Direction Générale de la Sûreté Nationale"},
			{ID: rabat, Name: "Commune de Rabat"},
			{ID: sale, Name: "Commune de Salé"},
		},
		Appliances: []Appliance{{ID: dgsnRabat01, Key: keyOf(dgsnRabat01)}, {ID: dgsnRabat02, Key: keyOf(dgsnRabat02)}, {ID: rabatHQ, Key: keyOf(rabatHQ)}},
		Services: []Service{
			{ID: civilStatus, Description: "Civil status records"},
			{ID: passports},
			{ID: rabatTax},
		},
		Rules: []Rule{
			{Consumer: rabat, Service: civilStatus, Methods: []string{"GET", "POST"}, PathPrefixes: []string{"/citizens/"}},
			{Consumer: rabat, Service: civilStatus, Methods: []string{"DELETE"}, PathPrefixes: []string{"/drafts"}},
			{Consumer: sale, Service: civilStatus, Methods: []string{"*"}, PathPrefixes: []string{"/"}},
			{Consumer: dgsn, Service: rabatTax, Methods: []string{"GET"}, PathPrefixes: []string{"/citizens"}},
		},
		Routes: []Route{
			{Service: civilStatus, Appliances: []ident.Appliance{dgsnRabat01, dgsnRabat02}},
			{Service: rabatTax, Appliances: []ident.Appliance{rabatHQ}},
		},
	}
}

// keyOf is a key hash for an appliance of the tests, one per identifier.
func keyOf(a ident.Appliance) string {
	sum := sha256.Sum256([]byte("the key of " + a.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newKey returns a deterministic key so that failures reproduce.
func newKey(t testing.TB, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	priv := ed25519.NewKeyFromSeed(s)
	return priv.Public().(ed25519.PublicKey), priv
}

// rawPayload builds a signed payload from section texts, head first; the
// sections not given are "null".
func rawPayload(sections ...string) []byte {
	var p payload
	for i := range p {
		p[i] = []byte("null")
	}
	for i, s := range sections {
		p[i] = []byte(s)
	}
	return p.join()
}
