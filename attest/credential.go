package attest

import (
	"crypto/rand"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// MakeCredential makes a credential-activation challenge: secret,
// encrypted so that only the TPM holding the EK of ekArea can recover it,
// and only for the object named akName loaded in that same TPM.
// idObject and encSecret go to the appliance; its answer must be secret.
func MakeCredential(ekArea []byte, akName []byte, secret []byte) (idObject, encSecret []byte, err error) {
	pub, err := unmarshalExact[tpm2.TPMTPublic]("EK public area", ekArea)
	if err != nil {
		return nil, nil, fmt.Errorf("attest: make credential: %w", err)
	}
	h, err := pub.NameAlg.Hash()
	if err != nil {
		return nil, nil, fmt.Errorf("attest: make credential: %w: EK name algorithm: %w", ErrCredential, err)
	}
	// The TPM returns the credential as a digest of the EK's name
	// algorithm, so it can be no longer than one.
	if len(secret) == 0 || len(secret) > h.Size() {
		return nil, nil, fmt.Errorf("attest: make credential: %w: secret of %d bytes, want 1..%d", ErrCredential, len(secret), h.Size())
	}
	key, err := tpm2.ImportEncapsulationKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("attest: make credential: %w: %w", ErrCredential, err)
	}
	idObject, encSecret, err = tpm2.CreateCredential(rand.Reader, key, akName, secret)
	if err != nil {
		return nil, nil, fmt.Errorf("attest: make credential: %w: %w", ErrCredential, err)
	}
	return idObject, encSecret, nil
}
