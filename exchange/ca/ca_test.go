package ca_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/ca"
	"github.com/babgate/bab/wire"
)

// now is whole seconds: certificates keep no finer time.
var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newCA(t *testing.T) (*ca.CA, []byte) {
	t.Helper()
	c, key, err := ca.New("Bab exchange CA", now)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func newKey(t *testing.T) crypto.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestNewLoad(t *testing.T) {
	c, key := newCA(t)
	if !c.Cert.IsCA || c.Cert.Subject.CommonName != "Bab exchange CA" {
		t.Errorf("CA certificate: IsCA %v, CN %q", c.Cert.IsCA, c.Cert.Subject.CommonName)
	}
	loaded, err := ca.Load(c.CertDER, key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(loaded.CertDER, c.CertDER) || loaded.Pin() != c.Pin() {
		t.Errorf("Load gave another CA")
	}
	// The loaded key is the same key: what it issues verifies with the
	// original.
	leaf, err := loaded.IssueClient(newKey(t), "MA/MUN/RABAT:hq", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyClient([][]byte{leaf}, now, 0); err != nil {
		t.Errorf("a certificate from the loaded CA does not verify with the original: %v", err)
	}

	for name, in := range map[string][2][]byte{
		"garbage certificate": {[]byte("not DER"), key},
		"garbage key":         {c.CertDER, []byte("not DER")},
	} {
		if _, err := ca.Load(in[0], in[1]); err == nil {
			t.Errorf("Load with a %s succeeded", name)
		}
	}
}

func TestIssueClient(t *testing.T) {
	c, _ := newCA(t)
	pub := newKey(t)
	der, err := c.IssueClient(pub, "MA/MUN/RABAT:hq", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := c.VerifyClient([][]byte{der}, now.Add(time.Hour), 0)
	if err != nil {
		t.Fatalf("VerifyClient: %v", err)
	}
	if leaf.Subject.CommonName != "MA/MUN/RABAT:hq" {
		t.Errorf("CN = %q", leaf.Subject.CommonName)
	}
	if !reflect.DeepEqual(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage = %v, want client auth only", leaf.ExtKeyUsage)
	}
	if leaf.IsCA {
		t.Error("a client certificate can sign certificates")
	}
	if !leaf.PublicKey.(*ecdsa.PublicKey).Equal(pub) {
		t.Error("the certificate is for another key")
	}
	if !leaf.NotAfter.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("NotAfter = %v, want %v", leaf.NotAfter, now.Add(24*time.Hour))
	}
	// Serial numbers are random, so that two issues never collide.
	der2, _ := c.IssueClient(pub, "MA/MUN/RABAT:hq", now, 24*time.Hour)
	leaf2, _ := x509.ParseCertificate(der2)
	if leaf2.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

func TestVerifyClientRefuses(t *testing.T) {
	c, _ := newCA(t)
	other, _ := newCA(t)
	pub := newKey(t)
	issue := func(c *ca.CA, lifetime time.Duration) []byte {
		der, err := c.IssueClient(pub, "MA/MUN/RABAT:hq", now, lifetime)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	server, err := c.IssueServer(pub, []string{"127.0.0.1"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		chain [][]byte
		at    time.Time
	}{
		{"no certificate", nil, now},
		{"not DER", [][]byte{[]byte("garbage")}, now},
		{"server certificate (wrong key usage)", [][]byte{server}, now},
		{"another CA's certificate", [][]byte{issue(other, time.Hour)}, now},
		// Presenting the other CA as an intermediate does not help: only
		// this CA is a root.
		{"another CA's certificate with its CA", [][]byte{issue(other, time.Hour), other.CertDER}, now},
		{"expired", [][]byte{issue(c, time.Hour)}, now.Add(time.Hour + time.Second)},
		{"not yet valid", [][]byte{issue(c, time.Hour)}, now.Add(-10 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if leaf, err := c.VerifyClient(tc.chain, tc.at, 0); err == nil {
				t.Errorf("VerifyClient accepted it: %v", leaf.Subject)
			}
		})
	}
	// The same certificate inside its validity is accepted, so the
	// expired case fails for its time and nothing else.
	if _, err := c.VerifyClient([][]byte{issue(c, time.Hour)}, now.Add(time.Hour-time.Second), 0); err != nil {
		t.Errorf("a certificate one second before expiry is refused: %v", err)
	}
}

func TestIssueServer(t *testing.T) {
	c, _ := newCA(t)
	names := []string{"127.0.0.1", "exchange.example.org", "::1", "bab.local"}
	der, err := c.IssueServer(newKey(t), names, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if len(leaf.IPAddresses) != len(wantIPs) {
		t.Fatalf("IPAddresses = %v, want %v", leaf.IPAddresses, wantIPs)
	}
	for i, ip := range leaf.IPAddresses {
		if !ip.Equal(wantIPs[i]) {
			t.Errorf("IPAddresses = %v, want %v", leaf.IPAddresses, wantIPs)
		}
	}
	if want := []string{"exchange.example.org", "bab.local"}; !reflect.DeepEqual(leaf.DNSNames, want) {
		t.Errorf("DNSNames = %v, want %v", leaf.DNSNames, want)
	}
	// It verifies as a server certificate for each name, from this CA.
	for _, n := range names {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: n, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("verify for %s: %v", n, err)
		}
	}
}

func TestPin(t *testing.T) {
	c, key := newCA(t)
	loaded, err := ca.Load(c.CertDER, key)
	if err != nil {
		t.Fatal(err)
	}
	pin := c.Pin()
	if len(pin) != 43 {
		t.Errorf("pin %q is %d characters, want 43 (SHA-256 in unpadded base64url)", pin, len(pin))
	}
	if pin != wire.Pin(c.Cert) || pin != ca.PinOf(c.Cert) || pin != loaded.Pin() || pin != c.Pin() {
		t.Errorf("pins disagree: %s, wire %s, PinOf %s, loaded %s", pin, wire.Pin(c.Cert), ca.PinOf(c.Cert), loaded.Pin())
	}
	if other, _ := newCA(t); other.Pin() == pin {
		t.Error("two CAs share a pin")
	}
}

func TestVerifyClientRefusesTheCAItself(t *testing.T) {
	c, _, err := ca.New("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyClient([][]byte{c.CertDER}, time.Now(), 0); err == nil {
		t.Fatal("the CA certificate was accepted as a client certificate")
	}
}

func TestVerifyClientGrace(t *testing.T) {
	now := time.Now()
	c, _, err := ca.New("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := c.IssueClient(key.Public(), "MA/MUN/RABAT:hq", now.Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Expired an hour ago: refused without grace, accepted within a day's.
	if _, err := c.VerifyClient([][]byte{der}, now, 0); err == nil {
		t.Fatal("expired certificate accepted without grace")
	}
	if _, err := c.VerifyClient([][]byte{der}, now, 24*time.Hour); err != nil {
		t.Fatalf("within grace: %v", err)
	}
	if _, err := c.VerifyClient([][]byte{der}, now, 30*time.Minute); err == nil {
		t.Fatal("expired beyond the grace period but accepted")
	}
}
