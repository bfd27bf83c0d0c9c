// Package keys is the seam between the appliance's private key and
// everything that signs with it. The tunnel's TLS and enrollment see only a
// crypto.Signer: a P-256 key created inside the TPM, which never leaves it
// (agent/tpm opens it from its TPM-wrapped blob), or, where no TPM is
// configured and the exchange allows it, a software P-256 key kept in the
// appliance's state file.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
)

// Kind names how a key is held. It is stored next to the key material so a
// later version knows how to reopen it.
type Kind string

// KindSoftware is a P-256 key held as PKCS#8 in the appliance's state file
// (mode 0600). It is the fallback where no TPM is configured.
const KindSoftware Kind = "software"

// KindTPM is a P-256 key created inside the TPM, stored only as the
// TPM-wrapped blob that just that TPM can load; agent/tpm opens it.
const KindTPM Kind = "tpm"

// Key is a signing key with the material needed to reopen it.
type Key struct {
	Kind   Kind
	Blob   []byte // PKCS#8 for software keys, the TPM-wrapped blob for TPM keys
	Signer crypto.Signer
}

// ErrUnknownKind means the stored key was made by a mechanism this build
// cannot open.
var ErrUnknownKind = errors.New("keys: unknown key kind")

// NewSoftware makes a fresh software key.
func NewSoftware() (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate P-256 key: %w", err)
	}
	blob, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("keys: encode key: %w", err)
	}
	return &Key{Kind: KindSoftware, Blob: blob, Signer: k}, nil
}

// Open reopens a stored software key. A TPM key is opened by agent/tpm;
// for it, as for any other kind, Open returns ErrUnknownKind.
func Open(kind Kind, blob []byte) (*Key, error) {
	switch kind {
	case KindSoftware:
		k, err := x509.ParsePKCS8PrivateKey(blob)
		if err != nil {
			return nil, fmt.Errorf("keys: parse software key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("keys: stored software key of type %T cannot sign", k)
		}
		return &Key{Kind: kind, Blob: blob, Signer: s}, nil
	}
	return nil, fmt.Errorf("%w %q: this bab cannot open it; re-enroll with bab enroll --reenroll", ErrUnknownKind, kind)
}

// CSR makes a certificate request for the key, named cn; the request's
// self-signature proves possession of the key to the exchange.
func (k *Key) CSR(cn string) ([]byte, error) {
	tmpl := &x509.CertificateRequest{}
	tmpl.Subject.CommonName = cn
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, k.Signer)
	if err != nil {
		return nil, fmt.Errorf("keys: certificate request: %w", err)
	}
	return der, nil
}
