package wire_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// manyFields returns n distinct header fields.
func manyFields(n int) []wire.Field {
	fs := make([]wire.Field, n)
	for i := range fs {
		fs[i] = wire.Field{Name: fmt.Sprintf("X-Field-%d", i), Value: strings.Repeat("v", i%7)}
	}
	return fs
}

// requestHeads are the round-trip cases; the truncation and fuzz tests
// reuse them. want is the head as decoded: the same except Timeout, which
// travels in whole milliseconds.
var requestHeads = []struct {
	name string
	in   wire.RequestHead
	want time.Duration // Timeout after the round trip
}{
	{"zero", wire.RequestHead{}, 0},
	{"typical", wire.RequestHead{
		ID: "0123456789abcdef", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET",
		Path: "/citizens/42", Query: "fields=name&x=1",
		Header:  []wire.Field{{"Accept", "application/json"}, {"Accept", "text/plain"}, {"X-Empty", ""}},
		Timeout: 30 * time.Second, ContentLength: -1,
		ConsumerAppliance: "MA/MUN/RABAT:hq", ConsumerSystem: "complaint-desk",
	}, 30 * time.Second},
	{"sub-millisecond timeout truncated", wire.RequestHead{Method: "POST", Timeout: 1500 * time.Microsecond, ContentLength: 12}, time.Millisecond},
	{"timeout under a millisecond becomes zero", wire.RequestHead{Timeout: 999 * time.Microsecond}, 0},
	{"odd timeout", wire.RequestHead{Timeout: 2*time.Second + 7*time.Microsecond}, 2 * time.Second},
	{"unicode", wire.RequestHead{
		Path: "/actes/naissance/é日本", Query: "nom=Benjelloun%20%C3%A9&q=🙂",
		Header:         []wire.Field{{"X-Nom", "Ḥasan ⵜⴰⵎⴰⵣⵉⵖⵜ"}, {"X-Raw", "\xff\x00bytes"}},
		ConsumerSystem: "état-civil",
	}, 0},
	{"many headers", wire.RequestHead{Header: manyFields(200), ContentLength: 1 << 40}, 0},
	// Lengths whose prefixes take two and three bytes.
	{"long strings", wire.RequestHead{Path: "/" + strings.Repeat("p", 300), Query: strings.Repeat("q", 1<<14)}, 0},
}

func TestRequestHeadRoundTrip(t *testing.T) {
	for _, tc := range requestHeads {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.in.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got wire.RequestHead
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			want := tc.in
			want.Timeout = tc.want
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

var responseHeads = []struct {
	name string
	in   wire.ResponseHead
}{
	{"minimal", wire.ResponseHead{Status: 200}},
	{"unknown length", wire.ResponseHead{Status: 204, ContentLength: -1}},
	{"lowest status", wire.ResponseHead{Status: 100, ContentLength: 0}},
	{"highest status", wire.ResponseHead{Status: 999, ContentLength: 5}},
	{"headers kept in order with repeats", wire.ResponseHead{Status: 404,
		Header: []wire.Field{{"Set-Cookie", "a=1"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Set-Cookie", "b=2"}}, ContentLength: 1 << 33}},
	{"unicode", wire.ResponseHead{Status: 201, Header: []wire.Field{{"X-Titre", "Acte de naissance — ﺍﻟﺤﺎﻟﺔ ﺍﻟﻤﺪﻧﻴﺔ"}}}},
	{"many headers", wire.ResponseHead{Status: 500, Header: manyFields(200), ContentLength: -1}},
}

func TestResponseHeadRoundTrip(t *testing.T) {
	for _, tc := range responseHeads {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.in.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got wire.ResponseHead
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("round trip =\n%+v\nwant\n%+v", got, tc.in)
			}
		})
	}
}

// unmarshaler is what both head types offer, so that one set of refusal
// tests covers both.
type unmarshaler interface{ UnmarshalBinary([]byte) error }

// encodedHead is one round-trip case encoded, with a decoder of its type.
type encodedHead struct {
	b   []byte
	new func() unmarshaler
}

// encoded returns every round-trip case encoded, by name.
func encoded(t *testing.T) map[string]encodedHead {
	t.Helper()
	out := map[string]encodedHead{}
	for _, tc := range requestHeads {
		b, err := tc.in.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out["request/"+tc.name] = encodedHead{b, func() unmarshaler { return new(wire.RequestHead) }}
	}
	for _, tc := range responseHeads {
		b, err := tc.in.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out["response/"+tc.name] = encodedHead{b, func() unmarshaler { return new(wire.ResponseHead) }}
	}
	return out
}

// mustMalformed fails unless decoding b fails with ErrMalformed, and turns
// a panic into a failure that names the input.
func mustMalformed(t *testing.T, u unmarshaler, b []byte, what string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: UnmarshalBinary panicked: %v", what, r)
		}
	}()
	err := u.UnmarshalBinary(b)
	if !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("%s: UnmarshalBinary = %v, want an error matching ErrMalformed", what, err)
	}
}

// TestHeadTruncated cuts every encoded head at every byte: a peer that
// stops early must never yield a head, only ErrMalformed.
func TestHeadTruncated(t *testing.T) {
	for name, e := range encoded(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(e.b) {
				mustMalformed(t, e.new(), e.b[:i], fmt.Sprintf("first %d of %d bytes", i, len(e.b)))
			}
		})
	}
}

func TestHeadTrailingBytes(t *testing.T) {
	for name, e := range encoded(t) {
		t.Run(name, func(t *testing.T) {
			mustMalformed(t, e.new(), append(e.b, 0), "one trailing byte")
			mustMalformed(t, e.new(), append(e.b, e.b...), "the head twice")
		})
	}
}

func TestHeadVersion(t *testing.T) {
	for name, e := range encoded(t) {
		t.Run(name, func(t *testing.T) {
			if e.b[0] != 1 {
				t.Fatalf("encoded head starts with %d, want version 1", e.b[0])
			}
			for _, v := range []byte{0, 2, 0x80, 0xff} {
				b := append([]byte{v}, e.b[1:]...)
				mustMalformed(t, e.new(), b, fmt.Sprintf("version %d", v))
			}
		})
	}
}

// TestHeadFieldLimit checks the bound on header fields, which keeps a
// peer from making the decoder allocate a large slice from a small head:
// the encoder refuses to build such a head, and the decoder refuses one
// that a peer built anyway.
func TestHeadFieldLimit(t *testing.T) {
	tests := []struct {
		n      int
		wantOK bool
	}{{199, true}, {200, true}, {201, false}, {1000, false}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			for _, c := range []struct {
				m   func(n int) interface{ MarshalBinary() ([]byte, error) }
				u   unmarshaler
				off int // where the field count starts in an otherwise empty head
			}{
				{func(n int) interface{ MarshalBinary() ([]byte, error) } {
					return &wire.RequestHead{Header: manyFields(n)}
				}, new(wire.RequestHead), 6},
				{func(n int) interface{ MarshalBinary() ([]byte, error) } {
					return &wire.ResponseHead{Status: 200, Header: manyFields(n)}
				}, new(wire.ResponseHead), 3},
			} {
				b, err := c.m(tc.n).MarshalBinary()
				if tc.wantOK {
					if err != nil {
						t.Fatal(err)
					}
					if err := c.u.UnmarshalBinary(b); err != nil {
						t.Errorf("%T with %d fields: %v", c.u, tc.n, err)
					}
					continue
				}
				if !errors.Is(err, wire.ErrHeadTooLarge) {
					t.Errorf("%T with %d fields: MarshalBinary = %v, want ErrHeadTooLarge", c.u, tc.n, err)
				}
				// A peer's head claiming n fields: 200 fields, then the
				// count (two bytes either way) patched to n.
				raw, err := c.m(200).MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				raw = append(appendUvarint(raw[:c.off:c.off], uint64(tc.n)), raw[c.off+2:]...)
				mustMalformed(t, c.u, raw, fmt.Sprintf("%T with %d fields", c.u, tc.n))
			}
		})
	}
}

// TestHeadFieldCountWithoutFields checks that a huge declared field count
// is refused before anything is allocated for it.
func TestHeadFieldCountWithoutFields(t *testing.T) {
	// version, status 200 (two-byte uvarint), then a field count of 2^62.
	b := []byte{1, 0xc8, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}
	mustMalformed(t, new(wire.ResponseHead), b, "2^62 fields")
}

func TestResponseStatusRange(t *testing.T) {
	tests := []struct {
		status int
		wantOK bool
	}{
		{0, false}, {99, false}, {100, true}, {200, true}, {599, true}, {999, true}, {1000, false}, {-1, false}, {1 << 40, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			b, err := (&wire.ResponseHead{Status: tc.status}).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got wire.ResponseHead
			err = got.UnmarshalBinary(b)
			if tc.wantOK {
				if err != nil || got.Status != tc.status {
					t.Errorf("UnmarshalBinary = %v with status %d, want status %d", err, got.Status, tc.status)
				}
				return
			}
			if !errors.Is(err, wire.ErrMalformed) || !errors.Is(err, wire.ErrOutOfRange) {
				t.Errorf("UnmarshalBinary = %v, want ErrMalformed and ErrOutOfRange", err)
			}
		})
	}
}

// TestTimeoutTooLarge checks that a timeout a time.Duration cannot hold
// is refused instead of wrapping round to some other value.
func TestTimeoutTooLarge(t *testing.T) {
	ok, err := (&wire.RequestHead{Timeout: time.Duration(1<<63 - 1)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var h wire.RequestHead
	if err := h.UnmarshalBinary(ok); err != nil {
		t.Fatalf("largest timeout refused: %v", err)
	}
	if want := time.Duration(1<<63-1) / time.Millisecond * time.Millisecond; h.Timeout != want {
		t.Errorf("largest timeout decoded as %v, want %v", h.Timeout, want)
	}
	// The same head with the timeout one millisecond longer: version, five
	// empty strings, no fields, then the timeout uvarint.
	b := []byte{1, 0, 0, 0, 0, 0, 0}
	b = appendUvarint(b, uint64(1<<63-1)/uint64(time.Millisecond)+1)
	b = append(b, 0, 0, 0) // content length 0, two empty consumer strings
	mustMalformed(t, new(wire.RequestHead), b, "timeout beyond time.Duration")
	if err := new(wire.RequestHead).UnmarshalBinary(b); !errors.Is(err, wire.ErrOutOfRange) {
		t.Errorf("timeout beyond time.Duration: err = %v, want ErrOutOfRange", err)
	}
}

// TestNegativeTimeout checks that a deadline that passed while the head
// was being built goes out as 0 ("none given"), which every hop accepts,
// rather than as a number the next hop refuses.
func TestNegativeTimeout(t *testing.T) {
	b, err := (&wire.RequestHead{Timeout: -3 * time.Millisecond}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var h wire.RequestHead
	if err := h.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if h.Timeout != 0 {
		t.Errorf("Timeout = %v, want 0", h.Timeout)
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestHeadTooLarge checks MaxHead exactly at the boundary: the largest
// head is accepted, one byte more is ErrHeadTooLarge; and so is one header
// field more than the decoder takes, on either kind of head.
func TestHeadTooLarge(t *testing.T) {
	withValue := func(n int) []wire.Field { return []wire.Field{{"X-Big", strings.Repeat("a", n)}} }
	base, err := (&wire.RequestHead{Header: withValue(0)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The value's length prefix grows from one byte to three.
	fit := wire.MaxHead - len(base) - 2
	tests := []struct {
		name string
		m    interface{ MarshalBinary() ([]byte, error) }
		ok   bool
	}{
		{"request at the limit", &wire.RequestHead{Header: withValue(fit)}, true},
		{"request one byte over", &wire.RequestHead{Header: withValue(fit + 1)}, false},
		{"request far over", &wire.RequestHead{Path: strings.Repeat("/", 1<<20)}, false},
		{"response over", &wire.ResponseHead{Status: 200, Header: withValue(wire.MaxHead)}, false},
		{"request with 201 fields", &wire.RequestHead{Header: manyFields(201)}, false},
		{"response with 201 fields", &wire.ResponseHead{Status: 200, Header: manyFields(201)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.m.MarshalBinary()
			if tc.ok {
				if err != nil || len(b) != wire.MaxHead {
					t.Fatalf("MarshalBinary = %d bytes, %v; want exactly %d bytes", len(b), err, wire.MaxHead)
				}
				return
			}
			if !errors.Is(err, wire.ErrHeadTooLarge) || b != nil {
				t.Fatalf("MarshalBinary = %d bytes, %v; want ErrHeadTooLarge", len(b), err)
			}
		})
	}
	// 200 fields are carried, and decode again.
	b, err := (&wire.ResponseHead{Status: 200, Header: manyFields(200)}).MarshalBinary()
	var h wire.ResponseHead
	if err != nil || h.UnmarshalBinary(b) != nil || len(h.Header) != 200 {
		t.Fatalf("200 fields: %v", err)
	}
}

func TestBodyLengthBelowUnknownRefused(t *testing.T) {
	for _, cl := range []int64{-2, -1 << 40} {
		b, err := (&wire.ResponseHead{Status: 200, ContentLength: cl}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var h wire.ResponseHead
		if err := h.UnmarshalBinary(b); !errors.Is(err, wire.ErrMalformed) || !errors.Is(err, wire.ErrOutOfRange) {
			t.Errorf("ContentLength %d: err = %v, want ErrMalformed and ErrOutOfRange", cl, err)
		}
	}
}
