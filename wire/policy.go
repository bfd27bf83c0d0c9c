package wire

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
)

// maxBundle bounds a decompressed bundle, like policy.MaxSignedSize: a
// compressed frame cannot expand into more than a plain one could carry.
const maxBundle = 16 << 20

// PolicyFrame encodes the payload of a policy frame for signed (in either
// of its forms, JSON or binary), compressed when that saves at least half.
func PolicyFrame(signed []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		return nil, err
	}
	_, _ = w.Write(signed)
	if err := w.Close(); err != nil {
		return nil, err
	}
	var p Policy
	switch {
	case buf.Len() < len(signed)/2:
		p.Deflate = buf.Bytes()
	case len(signed) > 0 && signed[0] == '{':
		p.Bundle = json.RawMessage(signed)
	default:
		p.Raw = signed
	}
	return json.Marshal(p)
}

// Signed returns the signed bundle the frame carries.
func (p *Policy) Signed() ([]byte, error) {
	if len(p.Deflate) == 0 {
		if len(p.Raw) > 0 {
			return p.Raw, nil
		}
		return p.Bundle, nil
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(p.Deflate)), maxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("%w: policy: inflate: %v", ErrMalformed, err)
	}
	if len(out) > maxBundle {
		return nil, fmt.Errorf("%w: policy inflates beyond %d bytes", ErrFrameTooLarge, maxBundle)
	}
	return out, nil
}
