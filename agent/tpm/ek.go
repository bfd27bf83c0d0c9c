package tpm

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// EK is the TPM's endorsement key: the identity its manufacturer vouches
// for with a certificate, if it issued one.
type EK struct {
	// Cert is the manufacturer's certificate for this key, or nil when the
	// TPM has none (common with firmware TPMs).
	Cert *x509.Certificate
	// Public is the key (*rsa.PublicKey or *ecdsa.PublicKey).
	Public crypto.PublicKey
	// PublicArea is the key's TPMT_PUBLIC, as MakeCredential needs it.
	PublicArea []byte
	// Kind is "rsa" or "ecc".
	Kind string
}

// ekKind pairs an EK template with the NV indices where manufacturers
// store certificates for it (TCG EK Credential Profile).
type ekKind struct {
	name     string
	template tpm2.TPMTPublic
	certNV   []tpm2.TPMHandle
}

// ekKinds lists the EKs to try, in order.
var ekKinds = []ekKind{
	{"rsa", tpm2.RSAEKTemplate, []tpm2.TPMHandle{0x01c00002}},
	{"ecc", tpm2.ECCEKTemplate, []tpm2.TPMHandle{0x01c0000a, 0x01c00016}},
}

// kindByName finds an EK kind.
func kindByName(name string) (ekKind, bool) {
	for _, k := range ekKinds {
		if k.name == name {
			return k, true
		}
	}
	return ekKind{}, false
}

// EndorsementKey creates the EK from the TCG default template (RSA 2048,
// or ECC P-256 where RSA is unavailable) and reads its certificate from
// NV. A certificate whose key is not the EK's is ignored, so Cert is
// either this EK's certificate or nil.
func (t *TPM) EndorsementKey() (*EK, error) {
	var ek *EK
	err := t.with(func(tr transport.TPM) error {
		var errs []error
		for _, kind := range ekKinds {
			h, pub, err := createEK(tr, kind)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", kind.name, err))
				if errors.Is(classify(err), ErrLockout) {
					break
				}
				continue
			}
			flush(tr, h.Handle)
			ek, err = newEK(tr, kind, pub)
			return err
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: endorsement key: %w", classify(err))
	}
	return ek, nil
}

// createEK creates the EK primary; the caller flushes it.
func createEK(tr transport.TPM, kind ekKind) (tpm2.NamedHandle, *tpm2.TPM2BPublic, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHEndorsement,
		InPublic:      tpm2.New2B(kind.template),
	}.Execute(tr)
	if err != nil {
		return tpm2.NamedHandle{}, nil, fmt.Errorf("create EK: %w", err)
	}
	return tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, &rsp.OutPublic, nil
}

// newEK describes a created EK and finds its certificate.
func newEK(tr transport.TPM, kind ekKind, out *tpm2.TPM2BPublic) (*EK, error) {
	area, err := out.Contents()
	if err != nil {
		return nil, fmt.Errorf("EK public area: %w", err)
	}
	pub, err := tpm2.Pub(*area)
	if err != nil {
		return nil, fmt.Errorf("EK public key: %w", err)
	}
	ek := &EK{Public: pub, PublicArea: out.Bytes(), Kind: kind.name}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("EK public key: %w", err)
	}
	for _, idx := range kind.certNV {
		der, err := readNV(tr, idx)
		if errors.Is(err, tpm2.TPMRCHandle) {
			continue // no certificate at this index
		}
		if err != nil {
			return nil, fmt.Errorf("read EK certificate at 0x%08x: %w", uint32(idx), err)
		}
		cert, err := parseEKCert(der)
		if err != nil {
			return nil, fmt.Errorf("EK certificate at 0x%08x: %w", uint32(idx), err)
		}
		certKey, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
		if err == nil && bytes.Equal(certKey, pkix) {
			ek.Cert = cert
			break
		}
	}
	return ek, nil
}

// parseEKCert parses a certificate stored in NV. Some manufacturers pad
// the NV area after the DER, which x509.ParseCertificate would refuse.
func parseEKCert(b []byte) (*x509.Certificate, error) {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return x509.ParseCertificate(raw.FullBytes)
}
