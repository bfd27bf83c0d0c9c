package evidence

import (
	"errors"

	"github.com/babgate/bab/internal/canon"
)

var (
	// ErrMalformed means bytes are not an entry, key certificate or batch
	// in this package's format, or not in its one canonical form.
	ErrMalformed = canon.ErrMalformed
	// ErrCertificate means a key certificate does not hold: its signature
	// does not verify with the appliance key it names, or that key is not
	// the one the ops-signed policy binds to the appliance.
	ErrCertificate = errors.New("evidence: the key certificate does not hold")
	// ErrBatch means a batch does not hold: its signature does not verify
	// with the certified key, it names another certificate or appliance,
	// it was signed outside the certificate's validity, or its entries do
	// not hash to its root.
	ErrBatch = errors.New("evidence: the batch does not hold")
	// ErrNotIncluded means an entry's inclusion proof does not lead to its
	// batch's root.
	ErrNotIncluded = errors.New("evidence: the entry is not in the batch its appliance signed")
)
