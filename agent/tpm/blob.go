package tpm

import (
	"encoding/binary"
	"fmt"
)

// A key blob is what the TPM hands out for a key created under the SRK:
// TPM2B_PUBLIC followed by TPM2B_PRIVATE (the private part is encrypted
// and integrity-protected by the SRK, so only this TPM can load it).

// marshalBlob joins a key's public area and its wrapped private part.
func marshalBlob(public, private []byte) []byte {
	b := make([]byte, 0, 4+len(public)+len(private))
	b = binary.BigEndian.AppendUint16(b, uint16(len(public)))
	b = append(b, public...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(private)))
	return append(b, private...)
}

// splitBlob is marshalBlob's inverse.
func splitBlob(blob []byte) (public, private []byte, err error) {
	public, rest, ok := take2B(blob)
	if !ok || len(public) == 0 {
		return nil, nil, fmt.Errorf("%w: public part", errBadBlob)
	}
	private, rest, ok = take2B(rest)
	if !ok || len(private) == 0 || len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: private part", errBadBlob)
	}
	return public, private, nil
}

// take2B splits a size-prefixed TPM2B buffer off b.
func take2B(b []byte) (body, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}
