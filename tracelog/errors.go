package tracelog

import "errors"

var (
	// ErrMalformed means bytes are not a record, checkpoint or receipt in
	// this package's format (or not in its one canonical form).
	ErrMalformed = errors.New("malformed")
	// ErrVersion means a record is of a version this code does not read.
	ErrVersion = errors.New("unknown record version")
	// ErrSignature means a checkpoint does not carry a valid signature by
	// the log key it was checked with.
	ErrSignature = errors.New("the checkpoint is not validly signed by the log key")
	// ErrNotIncluded means a receipt's inclusion proof does not lead from
	// its record to the root hash of its checkpoint.
	ErrNotIncluded = errors.New("the record is not in the tree the log signed")
)
