// Package ca is the exchange's small certificate authority: it issues the
// short-lived client certificates appliances use on their tunnels and the
// exchange's own server certificate. Appliances pin the CA's public key
// through their enrollment token.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/babgate/bab/wire"
)

// CA holds the authority's certificate and key.
type CA struct {
	Cert    *x509.Certificate
	CertDER []byte
	key     crypto.Signer
}

// caLifetime is long: rotating the CA means re-pinning every appliance.
const caLifetime = 10 * 365 * 24 * time.Hour

// New creates a fresh CA with a P-256 key.
func New(name string, now time.Time) (*CA, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Bab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: self-sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: encode key: %w", err)
	}
	c, err := Load(der, keyDER)
	return c, keyDER, err
}

// Load restores a CA from its certificate and PKCS#8 key.
func Load(certDER, keyDER []byte) (*CA, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("ca: parse certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("ca: parse key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("ca: key cannot sign")
	}
	return &CA{Cert: cert, CertDER: certDER, key: signer}, nil
}

// Pin is the value an enrollment token carries so that the appliance can
// trust the exchange before it has any certificate: the SHA-256 of the CA's
// public key, base64url without padding.
func (c *CA) Pin() string { return PinOf(c.Cert) }

// PinOf computes the pin of any certificate's public key.
func PinOf(cert *x509.Certificate) string { return wire.Pin(cert) }

// Pool is a pool holding only this CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// IssueClient signs a client certificate for the appliance named cn, for
// the key in csr (whose self-signature the caller has checked).
func (c *CA) IssueClient(pub crypto.PublicKey, cn string, now time.Time, lifetime time.Duration) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-min(5*time.Minute, lifetime/10)), // tolerate small clock skew
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: issue client certificate for %s: %w", cn, err)
	}
	return der, nil
}

// IssueServer signs the exchange's server certificate for names, which may
// be DNS names or IP addresses.
func (c *CA) IssueServer(pub crypto.PublicKey, names []string, now time.Time, lifetime time.Duration) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "Bab exchange"},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: issue server certificate: %w", err)
	}
	return der, nil
}

// VerifyClient checks that chain[0] is a client certificate this CA issued
// and that it is valid at now, or expired by no more than grace. It returns
// the leaf; the caller decides what an expired one may still do.
func (c *CA) VerifyClient(chain [][]byte, now time.Time, grace time.Duration) (*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("no client certificate")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("parse client certificate: %w", err)
	}
	if leaf.IsCA {
		return nil, errors.New("a CA certificate is not a client certificate")
	}
	at := now
	if now.After(leaf.NotAfter) && now.Before(leaf.NotAfter.Add(grace)) {
		at = leaf.NotAfter // check the chain as of the last valid moment
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:       c.Pool(),
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("verify client certificate %q: %w", leaf.Subject.CommonName, err)
	}
	return leaf, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic("ca: random serial: " + err.Error()) // the system RNG does not fail on Linux
	}
	return n
}
