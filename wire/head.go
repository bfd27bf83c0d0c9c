package wire

import (
	"encoding/binary"
	"fmt"
	"time"
)

// MaxHead bounds an encoded request or response head, headers included.
const MaxHead = 64 << 10

// maxFields bounds the number of header fields in a head.
const maxFields = 200

// headVersion is the first byte of every encoded head, so that a later
// format can be told apart instead of misread.
const headVersion = 1

// Field is one HTTP header line. Order and repetition are kept.
type Field struct{ Name, Value string }

// RequestHead opens a request stream. The consumer appliance fills it from
// the local system's HTTP request; before passing it on to the provider
// appliance the exchange replaces ConsumerAppliance with what it verified
// and Timeout with what is left. ConsumerSystem it cannot verify.
type RequestHead struct {
	ID            string        // request id, also in the trace and logs
	Service       string        // provider service identifier
	Method        string        // HTTP method
	Path          string        // path inside the service, starts with "/"
	Query         string        // raw query without "?"
	Header        []Field       // end-to-end headers only
	Timeout       time.Duration // what is left of the caller's deadline when sent
	ContentLength int64         // -1 when unknown
	// ConsumerAppliance is the calling appliance as the exchange verified it
	// from the tunnel's certificate. Appliances leave it empty; the exchange
	// overwrites it.
	ConsumerAppliance string
	// ConsumerSystem names the local information system that made the call,
	// as its own appliance authenticated it.
	ConsumerSystem string
	// Purpose is what the caller declared the call is for (Bab-Purpose),
	// checked against the rule and kept in the trace.
	Purpose string
}

// ResponseHead starts the answer on a request stream; the body follows.
type ResponseHead struct {
	Status        int
	Header        []Field
	ContentLength int64 // -1 when unknown
}

// MarshalBinary encodes the head compactly; it sits on every request.
func (h *RequestHead) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 256)
	b = append(b, headVersion)
	b = appendString(b, h.ID)
	b = appendString(b, h.Service)
	b = appendString(b, h.Method)
	b = appendString(b, h.Path)
	b = appendString(b, h.Query)
	b = appendFields(b, h.Header)
	// A deadline that passed while the head was built goes out as 0 ("none
	// given") rather than as a negative number the next hop would refuse.
	b = binary.AppendUvarint(b, uint64(max(h.Timeout, 0)/time.Millisecond))
	b = binary.AppendVarint(b, h.ContentLength)
	b = appendString(b, h.ConsumerAppliance)
	b = appendString(b, h.ConsumerSystem)
	b = appendString(b, h.Purpose)
	if err := checkHead("request", b, len(h.Header)); err != nil {
		return nil, err
	}
	return b, nil
}

// checkHead refuses a head the other side would refuse to decode.
func checkHead(kind string, b []byte, fields int) error {
	if fields > maxFields {
		return fmt.Errorf("%w: %s head with %d header fields; at most %d are carried", ErrHeadTooLarge, kind, fields, maxFields)
	}
	if len(b) > MaxHead {
		return fmt.Errorf("%w: %s head of %d bytes; at most %d are carried", ErrHeadTooLarge, kind, len(b), MaxHead)
	}
	return nil
}

// UnmarshalBinary decodes a head written by MarshalBinary.
func (h *RequestHead) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if v := d.byte(); v != headVersion && d.err == nil {
		return fmt.Errorf("%w: request head version %d, want %d", ErrMalformed, v, headVersion)
	}
	h.ID = d.string()
	h.Service = d.string()
	h.Method = d.string()
	h.Path = d.string()
	h.Query = d.string()
	h.Header = d.fields()
	h.Timeout = d.millis()
	h.ContentLength = d.length()
	h.ConsumerAppliance = d.string()
	h.ConsumerSystem = d.string()
	h.Purpose = d.string()
	return d.finish("request head")
}

// MarshalBinary encodes the response head.
func (h *ResponseHead) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, headVersion)
	b = binary.AppendUvarint(b, uint64(h.Status))
	b = appendFields(b, h.Header)
	b = binary.AppendVarint(b, h.ContentLength)
	if err := checkHead("response", b, len(h.Header)); err != nil {
		return nil, err
	}
	return b, nil
}

// UnmarshalBinary decodes a response head.
func (h *ResponseHead) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if v := d.byte(); v != headVersion && d.err == nil {
		return fmt.Errorf("%w: response head version %d, want %d", ErrMalformed, v, headVersion)
	}
	status := d.uvarint()
	h.Header = d.fields()
	h.ContentLength = d.length()
	if err := d.finish("response head"); err != nil {
		return err
	}
	if status < 100 || status > 999 {
		return fmt.Errorf("%w: %w: response status %d", ErrMalformed, ErrOutOfRange, status)
	}
	h.Status = int(status)
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFields(b []byte, fs []Field) []byte {
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = appendString(b, f.Name)
		b = appendString(b, f.Value)
	}
	return b
}

// decoder reads the head encoding and remembers the first error, so that
// the decoding functions stay linear.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or bad %s", ErrMalformed, what)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// millis reads a duration in whole milliseconds. Larger values than a
// time.Duration holds are refused: multiplied out they would wrap round to
// some other duration, possibly a short one.
func (d *decoder) millis() time.Duration {
	v := d.uvarint()
	if v > uint64(maxMillis) && d.err == nil {
		d.err = fmt.Errorf("%w: %w: timeout of %d ms is more than a duration holds", ErrMalformed, ErrOutOfRange, v)
		return 0
	}
	return Millis(v).Duration()
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// length reads a body length: -1 (unknown) or more.
func (d *decoder) length() int64 {
	v := d.varint()
	if v < -1 && d.err == nil {
		d.err = fmt.Errorf("%w: %w: body length %d", ErrMalformed, ErrOutOfRange, v)
	}
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) fields() []Field {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > maxFields {
		d.err = fmt.Errorf("%w: %w: %d header fields exceed %d", ErrMalformed, ErrOutOfRange, n, maxFields)
		return nil
	}
	if n == 0 {
		return nil
	}
	fs := make([]Field, n)
	for i := range fs {
		fs[i].Name = d.string()
		fs[i].Value = d.string()
	}
	return fs
}

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %s", ErrMalformed, len(d.b), what)
	}
	return nil
}
