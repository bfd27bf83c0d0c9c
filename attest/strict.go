package attest

import (
	"bytes"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// unmarshalExact parses a TPM structure and refuses trailing bytes or
// anything that does not marshal back to the same bytes, so that what was
// signed and what is checked are the same thing.
func unmarshalExact[T tpm2.Marshallable, P interface {
	*T
	tpm2.Unmarshallable
}](what string, b []byte) (*T, error) {
	v, err := tpm2.Unmarshal[T, P](b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	if !bytes.Equal(tpm2.Marshal(*v), b) {
		return nil, fmt.Errorf("%w: %s: trailing or non-canonical bytes", ErrMalformed, what)
	}
	return v, nil
}
