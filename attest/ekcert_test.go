package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/babgate/bab/attest"
)

// vendor is a made-up TPM vendor CA issuing EK certificates shaped like
// real ones: a critical subjectAltName holding only a directoryName.
type vendor struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newVendor(t *testing.T) *vendor {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test TPM vendor"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &vendor{cert, key}
}

// tcgSAN is a subjectAltName with a directoryName of TCG TPM attributes
// (manufacturer, model, version), as EK certificates carry.
func tcgSAN(t *testing.T) []byte {
	t.Helper()
	attr := func(oid asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	rdn := pkix.RDNSequence{
		{attr(asn1.ObjectIdentifier{2, 23, 133, 2, 1}, "id:00001014")},
		{attr(asn1.ObjectIdentifier{2, 23, 133, 2, 2}, "test")},
		{attr(asn1.ObjectIdentifier{2, 23, 133, 2, 3}, "id:00000001")},
	}
	name, err := asn1.Marshal(rdn)
	if err != nil {
		t.Fatal(err)
	}
	dirName, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: name})
	if err != nil {
		t.Fatal(err)
	}
	san, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: dirName})
	if err != nil {
		t.Fatal(err)
	}
	return san
}

// issue makes an EK certificate with the given extra extensions.
func (v *vendor) issue(t *testing.T, notAfter time.Time, exts ...pkix.Extension) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(2),
		NotBefore:          time.Now().Add(-time.Hour),
		NotAfter:           notAfter,
		KeyUsage:           x509.KeyUsageKeyEncipherment,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{{2, 23, 133, 8, 1}},
		ExtraExtensions:    exts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, v.cert, &key.PublicKey, v.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestVerifyEKCertExtensions(t *testing.T) {
	v := newVendor(t)
	roots := x509.NewCertPool()
	roots.AddCert(v.cert)
	san := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: tcgSAN(t)}
	unknown := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}
	later := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		now  time.Time
		want error
	}{
		{"critical TPM subjectAltName", v.issue(t, later, san), time.Now(), nil},
		{"another critical extension", v.issue(t, later, san, unknown), time.Now(), attest.ErrEKUntrusted},
		{"expired", v.issue(t, later, san), later.Add(time.Hour), attest.ErrEKUntrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := attest.VerifyEKCert(tc.cert, roots, nil, tc.now); !errors.Is(err, tc.want) {
				t.Errorf("VerifyEKCert = %v, want %v", err, tc.want)
			}
		})
	}
	// The caller's certificate is left as it was.
	c := v.issue(t, later, san)
	before := len(c.UnhandledCriticalExtensions)
	_ = attest.VerifyEKCert(c, roots, nil, time.Now())
	if before == 0 || len(c.UnhandledCriticalExtensions) != before {
		t.Errorf("UnhandledCriticalExtensions went from %d to %d; want the TPM SAN reported and left alone", before, len(c.UnhandledCriticalExtensions))
	}
}
