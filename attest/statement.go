package attest

import (
	"crypto/subtle"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// verifyStatement checks that attest is a TPM-generated statement of type
// want, signed by ak, answering nonce, and returns it parsed.
func verifyStatement(ak *AKPublic, attest, sig, nonce []byte, want tpm2.TPMST) (*tpm2.TPMSAttest, error) {
	if ak == nil {
		return nil, fmt.Errorf("%w: no attestation key", ErrNotAK)
	}
	if err := verifySignature(ak.Public, attest, sig); err != nil {
		return nil, err
	}
	a, err := unmarshalExact[tpm2.TPMSAttest]("attestation", attest)
	if err != nil {
		return nil, err
	}
	if a.Magic != tpm2.TPMGeneratedValue {
		return nil, fmt.Errorf("%w: not TPM-generated", ErrWrongType)
	}
	if a.Type != want {
		return nil, fmt.Errorf("%w: type 0x%x, want 0x%x", ErrWrongType, uint16(a.Type), uint16(want))
	}
	if len(a.ExtraData.Buffer) != len(nonce) || subtle.ConstantTimeCompare(a.ExtraData.Buffer, nonce) != 1 {
		return nil, ErrNonce
	}
	return a, nil
}
