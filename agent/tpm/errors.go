package tpm

import "errors"

// ErrNoDevice means there is no TPM at the configured place. On an
// appliance that almost always means the TPM is disabled in the firmware.
var ErrNoDevice = errors.New("no TPM found: enable the TPM in the firmware setup (see firmware-notes/), or set tpm.device in bab.yaml to where it is")

// ErrPermission means the TPM exists but this process may not open it.
var ErrPermission = errors.New("cannot open the TPM: add user bab to group tss (usermod -aG tss bab) and restart bab")

// ErrLockout means the TPM refuses authorisations because of its
// dictionary-attack protection.
var ErrLockout = errors.New("the TPM is in dictionary-attack lockout: wait for the lockout to expire or clear it from the firmware setup")

// ErrKeyUnusable means a stored key blob does not load on this TPM: the
// TPM was cleared, or the blob comes from another machine.
var ErrKeyUnusable = errors.New("a stored TPM key does not load on this TPM (TPM cleared or another machine): re-enroll with bab enroll --reenroll")

// ErrBadSpec means the TPM location given to Open is not one it accepts.
var ErrBadSpec = errors.New(`unknown TPM location: use "" for /dev/tpmrm0, a device path, or swtpm:SOCKET`)

// ErrClosed means the TPM was used after Close.
var ErrClosed = errors.New("the TPM connection is closed")

// ErrUnsupportedKey means a key or request is of a kind this package does
// not handle (for example a signature hash other than SHA-256).
var ErrUnsupportedKey = errors.New("unsupported TPM key or signature parameters")

// errEKChanged means the EK the caller holds is not the one this TPM
// creates from the same template now (another TPM, or a cleared one).
var errEKChanged = errors.New("the endorsement key differs from the one enrolled")

// errBadBlob means a key blob is not a TPM2B_PUBLIC || TPM2B_PRIVATE pair;
// callers report it as ErrKeyUnusable.
var errBadBlob = errors.New("malformed key blob")
