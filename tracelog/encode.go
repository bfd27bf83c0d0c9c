package tracelog

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// The binary encoding of a record (docs/trace.md has the table). It is
// binary rather than JSON because one is hashed and stored for every
// request, and canonical by construction: one record has one encoding,
// and the decoder accepts nothing else (no overlong varint, no field out
// of order, no trailing byte), so the bytes a receipt carries are the
// bytes that were logged.

// RecordVersion is the first byte of every record this code writes.
const RecordVersion = 1

// MaxRecord is the largest record decoded. A record is written from a
// request head, which is at most 64 KiB.
const MaxRecord = 128 << 10

// AppendBinary appends r's encoding to b. Every record encodes; the
// Unknown fields must have tags above the known ones, in increasing
// order, with non-empty values (as the decoder leaves them).
func (r *Record) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, RecordVersion)
	b = binary.AppendVarint(b, r.At.UnixNano())
	for _, s := range [...]string{r.ID, r.Consumer, r.ConsumerSystem, r.Provider, r.Service, r.Method, r.Purpose, r.Outcome} {
		b = appendString(b, s)
	}
	for _, n := range [...]int64{int64(r.Status), r.RequestBytes, r.ResponseBytes, int64(r.Duration)} {
		b = binary.AppendVarint(b, n)
	}
	for tag, d := range r.digests() {
		if d != nil && !d.IsZero() {
			b = binary.AppendUvarint(b, uint64(tag))
			b = appendString(b, string(d[:]))
		}
	}
	if r.SubjectKey != 0 {
		b = binary.AppendUvarint(b, TagSubjectKey)
		b = appendString(b, string(binary.BigEndian.AppendUint32(nil, r.SubjectKey)))
	}
	if s := r.ConfidentialUntil.Unix(); !r.ConfidentialUntil.IsZero() {
		if s <= 0 {
			return nil, fmt.Errorf("%w: confidential until %s, before 1970", ErrMalformed, r.ConfidentialUntil)
		}
		b = binary.AppendUvarint(b, TagConfidentialUntil)
		b = appendString(b, string(binary.BigEndian.AppendUint64(nil, uint64(s))))
	}
	last := uint64(lastKnownTag)
	for _, f := range r.Unknown {
		if f.Tag <= last || len(f.Value) == 0 {
			return nil, fmt.Errorf("%w: unknown field %d out of order or empty", ErrMalformed, f.Tag)
		}
		last = f.Tag
		b = binary.AppendUvarint(b, f.Tag)
		b = appendString(b, string(f.Value))
	}
	return b, nil
}

// MarshalBinary is r's encoding.
func (r *Record) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes a record, refusing anything but the canonical
// encoding of a record of version RecordVersion.
func (r *Record) UnmarshalBinary(data []byte) error {
	if len(data) > MaxRecord {
		return fmt.Errorf("%w: record of %d bytes, more than %d", ErrMalformed, len(data), MaxRecord)
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: empty record", ErrMalformed)
	}
	if data[0] != RecordVersion {
		return fmt.Errorf("%w %d (this version reads %d)", ErrVersion, data[0], RecordVersion)
	}
	d := decoder{b: data[1:]}
	*r = Record{At: time.Unix(0, d.varint()).UTC()}
	for _, s := range [...]*string{&r.ID, &r.Consumer, &r.ConsumerSystem, &r.Provider, &r.Service, &r.Method, &r.Purpose, &r.Outcome} {
		*s = d.string()
	}
	status := d.varint()
	r.Status = int(status)
	if int64(r.Status) != status {
		d.fail("status out of range")
	}
	r.RequestBytes, r.ResponseBytes, r.Duration = d.varint(), d.varint(), time.Duration(d.varint())
	digests := r.digests()
	var last uint64
	for d.err == nil && len(d.b) > 0 {
		tag, value := d.uvarint(), d.string()
		switch {
		case d.err != nil:
		case tag <= last:
			d.fail(fmt.Sprintf("field %d after field %d", tag, last))
		case value == "":
			d.fail(fmt.Sprintf("field %d is empty", tag))
		case tag <= lastDigestTag:
			if len(value) != len(Digest{}) || value == string(make([]byte, len(Digest{}))) {
				d.fail(fmt.Sprintf("field %d is not a SHA-256 digest", tag))
			}
			copy(digests[tag][:], value)
		case tag == TagSubjectKey:
			if len(value) != 4 || value == "\x00\x00\x00\x00" {
				d.fail("the subject key is not 4 bytes naming a key")
			}
			r.SubjectKey = binary.BigEndian.Uint32([]byte(value + "\x00\x00\x00\x00"))
		case tag == TagConfidentialUntil:
			s := int64(binary.BigEndian.Uint64([]byte(value + "\x00\x00\x00\x00\x00\x00\x00\x00")))
			if len(value) != 8 || s <= 0 {
				d.fail("the end of confidentiality is not 8 bytes of seconds after 1970")
			}
			r.ConfidentialUntil = time.Unix(s, 0).UTC()
		default:
			r.Unknown = append(r.Unknown, Field{Tag: tag, Value: []byte(value)})
		}
		last = tag
	}
	if d.err != nil {
		*r = Record{}
		return d.err
	}
	r.Unknown = slices.Clip(r.Unknown)
	return nil
}

// decoder reads a record's fields; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	d.b = nil
}

// uvarint reads an unsigned varint in its shortest form.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong number")
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail("number not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a zig-zag signed varint in its shortest form.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("truncated string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// RecordID reads only the request id of an encoded record, for indexes
// that need nothing else; it checks no more than it reads.
func RecordID(data []byte) (string, error) {
	if len(data) == 0 || data[0] != RecordVersion {
		return "", fmt.Errorf("%w: not a record of version %d", ErrMalformed, RecordVersion)
	}
	d := decoder{b: data[1:]}
	d.varint()
	id := d.string()
	return id, d.err
}
