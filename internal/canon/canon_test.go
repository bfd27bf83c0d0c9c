package canon

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestDecoder(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -5)
	b = AppendString(b, "abc")
	b = append(b, 7, 8)
	d := NewDecoder(b)
	if d.Uvarint() != 300 || d.Varint() != -5 || d.String(3) != "abc" || string(d.Fixed(2)) != "\x07\x08" || d.End() != nil {
		t.Fatalf("round trip: %v", d.Err())
	}
	for name, c := range map[string]struct {
		b    []byte
		read func(*Decoder)
	}{
		"overlong":  {[]byte{0x80, 0x00}, func(d *Decoder) { d.Uvarint() }},
		"truncated": {[]byte{0x80}, func(d *Decoder) { d.Uvarint() }},
		"too long":  {AppendString(nil, "abcd"), func(d *Decoder) { d.String(3) }},
		"short":     {[]byte{1, 2}, func(d *Decoder) { d.Fixed(3) }},
		"trailing":  {[]byte{1, 2}, func(d *Decoder) { d.Byte() }},
		"empty":     {nil, func(d *Decoder) { d.Byte() }},
	} {
		d := NewDecoder(c.b)
		c.read(d)
		if err := d.End(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestUvarintLen(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<63 - 1, 1<<64 - 1} {
		if got, want := uvarintLen(v), len(binary.AppendUvarint(nil, v)); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", v, got, want)
		}
	}
}
