package attest

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// oidSubjectAltName is the extension TPM EK certificates mark critical and
// fill with a directoryName of TCG attributes (manufacturer, model,
// version) that crypto/x509 cannot interpret.
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// VerifyEKCert checks that ek chains to one of roots at time now. The TPM
// attributes in the critical subjectAltName are accepted without being
// interpreted; any other unhandled critical extension is refused. Any
// extended key usage is accepted, since EK certificates carry
// tcg-kp-EKCertificate.
func VerifyEKCert(ek *x509.Certificate, roots, intermediates *x509.CertPool, now time.Time) error {
	if ek == nil {
		return fmt.Errorf("attest: verify EK certificate: %w: no certificate", ErrEKUntrusted)
	}
	if roots == nil {
		return fmt.Errorf("attest: verify EK certificate: %w: no TPM vendor CAs configured", ErrEKUntrusted)
	}
	c := *ek
	c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(ek.UnhandledCriticalExtensions),
		func(oid asn1.ObjectIdentifier) bool { return oid.Equal(oidSubjectAltName) })
	if len(c.UnhandledCriticalExtensions) > 0 {
		return fmt.Errorf("attest: verify EK certificate: %w: unhandled critical extension %v", ErrEKUntrusted, c.UnhandledCriticalExtensions[0])
	}
	_, err := c.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("attest: verify EK certificate: %w: %w", ErrEKUntrusted, err)
	}
	return nil
}

// EKHash names an EK by its public key: "sha256:" and the hex SHA-256 of
// the key's PKIX DER. Ops pre-register it for TPMs without an EK
// certificate. It is "" for a key that has no PKIX encoding.
func EKHash(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// EKPublicFromArea returns the public key of an EK's TPMT_PUBLIC.
func EKPublicFromArea(area []byte) (crypto.PublicKey, error) {
	pub, err := unmarshalExact[tpm2.TPMTPublic]("EK public area", area)
	if err != nil {
		return nil, fmt.Errorf("attest: EK public key: %w", err)
	}
	k, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, fmt.Errorf("attest: EK public key: %w: %w", ErrMalformed, err)
	}
	return k, nil
}

// CheckEKCertKey checks that the EK public area an appliance sent is the
// key its certificate is for. Without it a genuine certificate could
// vouch for an EK the appliance made up.
func CheckEKCertKey(area []byte, cert *x509.Certificate) error {
	pub, err := EKPublicFromArea(area)
	if err != nil {
		return err
	}
	if cert == nil || EKHash(pub) == "" || EKHash(pub) != EKHash(cert.PublicKey) {
		return fmt.Errorf("attest: %w", ErrEKMismatch)
	}
	return nil
}
