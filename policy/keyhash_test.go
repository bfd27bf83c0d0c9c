package policy

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
)

// TestKeyHash: the hash of a key is the SHA-256 of the SubjectPublicKeyInfo
// its certificates carry, so two certificates of one key (a renewal) name
// it alike; and ValidKeyHash accepts exactly what KeyHash writes.
func TestKeyHash(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := func(serial int64) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "MA/MUN/RABAT:hq"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	got, err := KeyHash(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{cert(1), cert(2)} {
		sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		if want := "sha256:" + hex.EncodeToString(sum[:]); got != want {
			t.Errorf("KeyHash = %s, the certificate's key is %s", got, want)
		}
	}
	if !ValidKeyHash(got) {
		t.Errorf("ValidKeyHash(%s) = false", got)
	}
	for _, bad := range []string{"", "sha256:", got[7:], "SHA256:" + got[7:], got[:len(got)-1], got + "0", "sha256:" + got[8:] + "g", "sha512:" + got[7:]} {
		if ValidKeyHash(bad) {
			t.Errorf("ValidKeyHash(%q) = true", bad)
		}
	}
	if _, err := KeyHash("not a key"); err == nil {
		t.Error("KeyHash of something that is not a key")
	}
}

// TestApplianceKey: a compiled policy answers which key it binds to an
// appliance, the one a peer must prove it holds.
func TestApplianceKey(t *testing.T) {
	b := labBundle()
	p := Compile(b)
	for _, a := range b.Appliances {
		if k, ok := p.ApplianceKey(a.ID); !ok || k != keyOf(a.ID) {
			t.Errorf("ApplianceKey(%s) = %q, %v; want %s", a.ID, k, ok, keyOf(a.ID))
		}
	}
	if k, ok := p.ApplianceKey(ident.MustAppliance("MA/MUN/RABAT:annex")); ok || k != "" {
		t.Errorf("ApplianceKey of an unlisted appliance = %q, %v", k, ok)
	}
	if _, ok := (&Policy{}).ApplianceKey(rabatHQ); ok {
		t.Error("an empty policy lists an appliance")
	}
	// A verified policy answers the same, also when the appliances
	// section is shared with the previous one.
	_, priv := newKey(t, 1)
	trust := Trust{Keys: []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}}
	s1, err := Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := s1.VerifyOver(trust, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Version++
	b.Rules[0].Methods = []string{"GET"}
	s2, err := Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s2.VerifyOver(trust, testNow, p1)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := p2.ApplianceKey(rabatHQ); !ok || k != keyOf(rabatHQ) {
		t.Errorf("after a push that kept the appliances: ApplianceKey = %q, %v", k, ok)
	}
}

// TestFillKeys: entries without a key get the registered one; a key ops
// wrote is kept, and reported when the registry holds another; an entry
// the registry cannot fill is reported, and the bundle cannot be signed.
func TestFillKeys(t *testing.T) {
	b := labBundle()
	b.Appliances[0].Key = ""                                            // rabat-01: to fill
	b.Appliances[1].Key = keyOf(ident.MustAppliance("MA/GOV/DGSN:old")) // rabat-02: replaced since
	b.Appliances = append(b.Appliances, Appliance{ID: ident.MustAppliance("MA/MUN/SALE:hq")})
	reg := map[ident.Appliance]string{dgsnRabat01: keyOf(dgsnRabat01), dgsnRabat02: keyOf(dgsnRabat02), rabatHQ: keyOf(rabatHQ)}
	f := FillKeys(b, reg)
	if !slices.Equal(f.Filled, []ident.Appliance{dgsnRabat01}) || b.Appliances[0].Key != keyOf(dgsnRabat01) {
		t.Errorf("filled %v, rabat-01's key %s", f.Filled, b.Appliances[0].Key)
	}
	if len(f.Differ) != 1 || f.Differ[0] != (KeyDiff{ID: dgsnRabat02, Listed: keyOf(ident.MustAppliance("MA/GOV/DGSN:old")), Registered: keyOf(dgsnRabat02)}) ||
		b.Appliances[1].Key != keyOf(ident.MustAppliance("MA/GOV/DGSN:old")) {
		t.Errorf("differ %+v; rabat-02's key %s, want the written one kept", f.Differ, b.Appliances[1].Key)
	}
	if !slices.Equal(f.Unenrolled, []ident.Appliance{ident.MustAppliance("MA/MUN/SALE:hq")}) {
		t.Errorf("unenrolled %v", f.Unenrolled)
	}
	if got := b.MissingKeys(); !slices.Equal(got, f.Unenrolled) {
		t.Errorf("MissingKeys = %v", got)
	}
	_, priv := newKey(t, 1)
	if _, err := Sign(b, priv); err == nil {
		t.Error("a bundle with an appliance without a key was signed")
	}
}
