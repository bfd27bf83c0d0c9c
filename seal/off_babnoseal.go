//go:build babnoseal

package seal

import (
	"bytes"
	"crypto/cipher"
	"errors"
)

// A build for measurement only (tag babnoseal): requests and answers go
// in the same frames, with the same lengths, but neither encrypted nor
// authenticated, so that a benchmark can compare the cost of end-to-end
// protection with none. Never shipped: scripts/bench builds it beside the
// real binaries.
func init() { newAEAD = func([]byte) (cipher.AEAD, error) { return clearAEAD{}, nil } }

type clearAEAD struct{}

func (clearAEAD) NonceSize() int { return 12 }
func (clearAEAD) Overhead() int  { return Overhead }

func (clearAEAD) Seal(dst, _, plain, _ []byte) []byte {
	dst = append(dst, plain...)
	return append(dst, make([]byte, Overhead)...)
}

func (clearAEAD) Open(dst, _, sealed, _ []byte) ([]byte, error) {
	if len(sealed) < Overhead || !bytes.Equal(sealed[len(sealed)-Overhead:], make([]byte, Overhead)) {
		return nil, errors.New("clear: bad tag")
	}
	return append(dst, sealed[:len(sealed)-Overhead]...), nil
}
