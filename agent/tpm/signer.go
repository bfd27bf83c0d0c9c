package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Signer loads a TLS key blob and returns a crypto.Signer whose private
// key stays in the TPM: Sign takes a SHA-256 digest, has the TPM sign it
// with ECDSA and returns the ASN.1 DER signature crypto/ecdsa would. It
// works as a tls.Certificate's PrivateKey (ECDSA P-256 with SHA-256, the
// only TLS 1.3 scheme for that curve). A blob that does not load on this
// TPM gives ErrKeyUnusable.
func (t *TPM) Signer(blob []byte) (crypto.Signer, error) {
	s := &signer{t: t, blob: blob}
	err := t.with(func(tr transport.TPM) error {
		h, pub, err := loadUnderSRK(tr, blob)
		if err != nil {
			return err
		}
		defer flush(tr, h.Handle)
		if err := checkSigningKey(pub); err != nil {
			return err
		}
		k, err := tpm2.Pub(*pub)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		s.pub = k.(*ecdsa.PublicKey)
		return s.save(tr, h)
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: signer: %w", classify(err))
	}
	return s, nil
}

// checkSigningKey accepts the ECC P-256 unrestricted signing keys
// NewTLSKey makes.
func checkSigningKey(pub *tpm2.TPMTPublic) error {
	a := pub.ObjectAttributes
	if pub.Type != tpm2.TPMAlgECC || !a.SignEncrypt || a.Restricted || a.Decrypt {
		return fmt.Errorf("%w: not an unrestricted ECC signing key", ErrUnsupportedKey)
	}
	parms, err := pub.Parameters.ECCDetail()
	if err != nil || parms.CurveID != tpm2.TPMECCNistP256 {
		return fmt.Errorf("%w: not a P-256 key", ErrUnsupportedKey)
	}
	return nil
}

// signer is a TLS key in the TPM. Between signatures the key is kept as a
// saved context, which reloads faster than the blob and holds none of the
// TPM's few object slots; if the TPM has restarted since, it reloads from
// the blob.
type signer struct {
	t    *TPM
	blob []byte
	pub  *ecdsa.PublicKey

	// Guarded by t.mu.
	saved *tpm2.TPMSContext
	name  tpm2.TPM2BName
}

// Public returns the key's *ecdsa.PublicKey.
func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign signs a SHA-256 digest.
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 || len(digest) != crypto.SHA256.Size() {
		return nil, fmt.Errorf("tpm: sign: %w: want a SHA-256 digest, got %v with %d bytes", ErrUnsupportedKey, opts.HashFunc(), len(digest))
	}
	var sig []byte
	err := s.t.with(func(tr transport.TPM) error {
		h, err := s.load(tr)
		if err != nil {
			return err
		}
		defer flush(tr, h.Handle)
		rsp, err := tpm2.Sign{
			KeyHandle: tpm2.AuthHandle{Handle: h.Handle, Name: h.Name, Auth: tpm2.PasswordAuth(nil)},
			Digest:    tpm2.TPM2BDigest{Buffer: digest},
			InScheme: tpm2.TPMTSigScheme{
				Scheme:  tpm2.TPMAlgECDSA,
				Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: tpm2.TPMAlgSHA256}),
			},
			Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
		}.Execute(tr)
		if err != nil {
			return err
		}
		ec, err := rsp.Signature.Signature.ECDSA()
		if err != nil {
			return fmt.Errorf("signature: %w", err)
		}
		sig, err = asn1.Marshal(struct{ R, S *big.Int }{
			new(big.Int).SetBytes(ec.SignatureR.Buffer),
			new(big.Int).SetBytes(ec.SignatureS.Buffer),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: sign: %w", classify(err))
	}
	return sig, nil
}

// load makes the key a loaded object, from its saved context if that is
// still good, else from the blob. The caller flushes it.
func (s *signer) load(tr transport.TPM) (tpm2.NamedHandle, error) {
	if s.saved != nil {
		rsp, err := tpm2.ContextLoad{Context: *s.saved}.Execute(tr)
		if err == nil {
			return tpm2.NamedHandle{Handle: rsp.LoadedHandle, Name: s.name}, nil
		}
		s.saved = nil
	}
	h, _, err := loadUnderSRK(tr, s.blob)
	if err != nil {
		return tpm2.NamedHandle{}, err
	}
	if err := s.save(tr, h); err != nil {
		flush(tr, h.Handle)
		return tpm2.NamedHandle{}, err
	}
	return h, nil
}

// save keeps a saved context of the loaded key h.
func (s *signer) save(tr transport.TPM, h tpm2.NamedHandle) error {
	rsp, err := tpm2.ContextSave{SaveHandle: h.Handle}.Execute(tr)
	if err != nil {
		return fmt.Errorf("save key context: %w", err)
	}
	s.saved = &rsp.Context
	s.name = h.Name
	return nil
}
