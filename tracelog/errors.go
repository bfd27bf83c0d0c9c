package tracelog

import (
	"errors"

	"github.com/babgate/bab/internal/canon"
)

var (
	// ErrMalformed means bytes are not a record, checkpoint or receipt in
	// this package's format (or not in its one canonical form). It is the
	// error of every canonical format's reader (package evidence's too).
	ErrMalformed = canon.ErrMalformed
	// ErrVersion means a record is of a version this code does not read.
	ErrVersion = errors.New("unknown record version")
	// ErrSignature means a checkpoint does not carry a valid signature by
	// the log key it was checked with.
	ErrSignature = errors.New("the checkpoint is not validly signed by the log key")
	// ErrNotIncluded means a receipt's inclusion proof does not lead from
	// its record to the root hash of its checkpoint.
	ErrNotIncluded = errors.New("the record is not in the tree the log signed")
	// ErrOtherRequest means a receipt carries evidence that is not of its
	// record's request: another id, or another consumer, provider, service
	// or method.
	ErrOtherRequest = errors.New("the evidence is not of the record's request")
)
