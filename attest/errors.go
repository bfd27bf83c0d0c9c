package attest

import "errors"

// ErrEKUntrusted means the EK certificate does not chain to a configured
// TPM vendor CA (or carries a critical extension nobody checked).
var ErrEKUntrusted = errors.New("EK certificate is not from a trusted TPM vendor")

// ErrEKMismatch means the EK public area the appliance sent is not the key
// its EK certificate is for.
var ErrEKMismatch = errors.New("EK public key does not match the EK certificate")

// ErrMalformed means a TPM structure does not parse, or has bytes after
// its end.
var ErrMalformed = errors.New("malformed TPM structure")

// ErrNotAK means a key is not a restricted, fixedTPM, fixedParent,
// TPM-generated signing key, so what it signs says nothing about the TPM.
var ErrNotAK = errors.New("not an attestation key")

// ErrBadSignature means a quote or certification is not signed by the
// attestation key.
var ErrBadSignature = errors.New("signature does not verify with the attestation key")

// ErrWrongType means a signed TPM statement is not of the kind expected
// (a certification offered as a quote, or not TPM-generated at all).
var ErrWrongType = errors.New("TPM statement is of the wrong type")

// ErrNonce means a quote or certification answers another nonce: a replay.
var ErrNonce = errors.New("TPM statement does not carry this nonce (replayed?)")

// ErrPCRSelection means a quote covers other PCRs than the ones asked for.
var ErrPCRSelection = errors.New("quote covers other PCRs than requested")

// ErrPCRDigest means the PCR values sent with a quote are not the ones the
// TPM signed.
var ErrPCRDigest = errors.New("PCR values do not match the quoted digest")

// ErrNotBound means a certification names another key than the one
// presented.
var ErrNotBound = errors.New("certification is for another key")

// ErrExportableKey means a certified key could exist outside the TPM: it
// lacks fixedTPM, fixedParent or sensitiveDataOrigin.
var ErrExportableKey = errors.New("certified key is not bound to the TPM")

// ErrKeyType means a certified key is not an unrestricted ECC P-256
// signing key, the only kind Bab's TLS uses.
var ErrKeyType = errors.New("certified key is not an ECC P-256 signing key")

// ErrCredential means a credential-activation challenge cannot be made
// for this EK or secret.
var ErrCredential = errors.New("cannot make a credential for this EK")
