package attest

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// VerifyCertify checks that attestBytes is a TPM2_Certify statement signed
// by ak, answering nonce, about the key whose TPMT_PUBLIC is keyArea, and
// that the key is an unrestricted ECC P-256 signing key that cannot leave
// the TPM. It returns that key, for the appliance certificate.
func VerifyCertify(ak *AKPublic, keyArea, attestBytes, sig, nonce []byte) (*ecdsa.PublicKey, error) {
	a, err := verifyStatement(ak, attestBytes, sig, nonce, tpm2.TPMSTAttestCertify)
	if err != nil {
		return nil, fmt.Errorf("attest: verify certification: %w", err)
	}
	info, err := a.Attested.Certify()
	if err != nil {
		return nil, fmt.Errorf("attest: verify certification: %w: %w", ErrMalformed, err)
	}
	pub, err := unmarshalExact[tpm2.TPMTPublic]("key public area", keyArea)
	if err != nil {
		return nil, fmt.Errorf("attest: verify certification: %w", err)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return nil, fmt.Errorf("attest: verify certification: %w: name: %w", ErrMalformed, err)
	}
	if !bytes.Equal(name.Buffer, info.Name.Buffer) {
		return nil, fmt.Errorf("attest: verify certification: %w", ErrNotBound)
	}
	at := pub.ObjectAttributes
	if !at.FixedTPM || !at.FixedParent || !at.SensitiveDataOrigin {
		return nil, fmt.Errorf("attest: verify certification: %w: attributes %s", ErrExportableKey, describeAttrs(at))
	}
	if pub.Type != tpm2.TPMAlgECC || !at.SignEncrypt || at.Restricted || at.Decrypt {
		return nil, fmt.Errorf("attest: verify certification: %w: type %v, attributes %s", ErrKeyType, pub.Type, describeAttrs(at))
	}
	parms, err := pub.Parameters.ECCDetail()
	if err != nil || parms.CurveID != tpm2.TPMECCNistP256 {
		return nil, fmt.Errorf("attest: verify certification: %w: not P-256", ErrKeyType)
	}
	k, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, fmt.Errorf("attest: verify certification: %w: %w", ErrMalformed, err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("attest: verify certification: %w", ErrKeyType)
	}
	return ek, nil
}
