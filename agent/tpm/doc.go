// Package tpm is the appliance's only door to its TPM 2.0: it reads the
// endorsement key and its certificate, creates the attestation key and the
// TPM-resident TLS key, answers credential-activation challenges and
// quotes PCRs, and signs TLS handshakes through crypto.Signer without the
// private key ever leaving the TPM. Keys are stored as TPM-wrapped blobs
// under a storage root key that is recreated from a fixed template as
// needed, so nothing has to be persisted inside the TPM.
package tpm
