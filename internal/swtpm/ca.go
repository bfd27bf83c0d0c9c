package swtpm

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// ManufacturerCA returns the local CA certificate that signed this TPM's
// EK certificates: what the exchange configures as a trusted TPM vendor
// CA. It is an intermediate under the local root (ManufacturerRoot); Go's
// verifier accepts it as a trust anchor on its own.
func (s *Sim) ManufacturerCA() (*x509.Certificate, error) {
	return readCert(filepath.Join(s.Dir, "ca", "issuercert.pem"))
}

// ManufacturerRoot returns the self-signed root above ManufacturerCA, for
// tests that configure a vendor root with the issuer as an intermediate.
func (s *Sim) ManufacturerRoot() (*x509.Certificate, error) {
	return readCert(filepath.Join(s.Dir, "ca", "swtpm-localca-rootca-cert.pem"))
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("swtpm: manufacturer CA: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("swtpm: manufacturer CA: %s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("swtpm: manufacturer CA: %w", err)
	}
	return c, nil
}
