// Package attest is the exchange's side of TPM attestation, in pure Go with
// no TPM access: it checks an appliance's EK certificate against the
// configured TPM vendor CAs, makes credential-activation challenges that
// only the TPM holding that EK can answer for a given attestation key,
// verifies quotes against a nonce and a PCR selection, verifies that a TLS
// key was certified by the attestation key as non-exportable, and compares
// PCR values with a baseline.
package attest
