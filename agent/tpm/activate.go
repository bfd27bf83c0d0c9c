package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// ActivateCredential decrypts a credential the exchange made for ak with
// ek's public key. The TPM releases the secret only if ak is loaded in the
// same TPM as ek, which is what binds the AK to the EK.
func (t *TPM) ActivateCredential(ak *AK, ek *EK, idObject, encSecret []byte) ([]byte, error) {
	kind, ok := kindByName(ek.Kind)
	if !ok {
		return nil, fmt.Errorf("tpm: activate credential: %w: EK kind %q", ErrUnsupportedKey, ek.Kind)
	}
	var secret []byte
	err := t.with(func(tr transport.TPM) error {
		akh, _, err := loadUnderSRK(tr, ak.Blob)
		if err != nil {
			return fmt.Errorf("attestation key: %w", err)
		}
		defer flush(tr, akh.Handle)
		ekh, ekPub, err := createEK(tr, kind)
		if err != nil {
			return err
		}
		defer flush(tr, ekh.Handle)
		if string(ekPub.Bytes()) != string(ek.PublicArea) {
			return errEKChanged
		}
		sess, closeSess, err := tpm2.PolicySession(tr, tpm2.TPMAlgSHA256, 16)
		if err != nil {
			return fmt.Errorf("EK policy session: %w", err)
		}
		defer closeSess()
		// The EK's policy: whoever can authorise the endorsement
		// hierarchy (its auth value is empty unless the owner set one).
		if _, err := (tpm2.PolicySecret{
			AuthHandle:    tpm2.TPMRHEndorsement,
			PolicySession: sess.Handle(),
			NonceTPM:      sess.NonceTPM(),
		}).Execute(tr); err != nil {
			return fmt.Errorf("EK policy: %w", err)
		}
		rsp, err := tpm2.ActivateCredential{
			ActivateHandle: tpm2.AuthHandle{Handle: akh.Handle, Name: akh.Name, Auth: tpm2.PasswordAuth(nil)},
			KeyHandle:      tpm2.AuthHandle{Handle: ekh.Handle, Name: ekh.Name, Auth: sess},
			CredentialBlob: tpm2.TPM2BIDObject{Buffer: idObject},
			Secret:         tpm2.TPM2BEncryptedSecret{Buffer: encSecret},
		}.Execute(tr)
		if err != nil {
			return err
		}
		secret = rsp.CertInfo.Buffer
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: activate credential: %w", classify(err))
	}
	return secret, nil
}
