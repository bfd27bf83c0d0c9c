// Package canon reads binary formats that have exactly one encoding:
// unsigned and zig-zag varints in their shortest form, strings as a
// length then the bytes, fixed-size fields. A format whose bytes are
// signed or hashed must refuse every other spelling of the same value, or
// two encodings of one statement would pass for two statements; the
// evidence formats (package evidence) and the trace log's evidence leaves
// and receipts read with it.
package canon

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error of a Decoder.
var ErrMalformed = errors.New("malformed")

// AppendString appends s as a uvarint length and its bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes is AppendString for a byte slice.
func AppendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Decoder reads fields in order; the first error sticks, and every read
// after it returns a zero value.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, or, once everything was read, nil.
func (d *Decoder) Err() error { return d.err }

// Rest is what is left to read.
func (d *Decoder) Rest() []byte { return d.b }

// Fail records an error about what was read (the first one stays).
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

// End fails unless everything was read.
func (d *Decoder) End() error {
	if d.err == nil && len(d.b) > 0 {
		d.Fail("%d bytes after the last field", len(d.b))
	}
	return d.err
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.Fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Uvarint reads an unsigned varint in its shortest form.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail("truncated or overlong number")
		return 0
	}
	if n != uvarintLen(v) {
		d.Fail("number not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a zig-zag signed varint in its shortest form.
func (d *Decoder) Varint() int64 {
	u := d.Uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// Fixed reads n bytes; the slice is d's input, not a copy.
func (d *Decoder) Fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.Fail("truncated")
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// Bytes reads a string of at most max bytes as a slice of d's input.
func (d *Decoder) Bytes(max int) []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) {
		d.Fail("a field of %d bytes, more than %d", n, max)
		return nil
	}
	return d.Fixed(int(n))
}

// String reads a string of at most max bytes.
func (d *Decoder) String(max int) string { return string(d.Bytes(max)) }

// uvarintLen is the length of v's shortest encoding.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
