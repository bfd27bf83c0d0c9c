package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/babgate/bab/wire"
)

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		typ     wire.FrameType
		payload []byte
	}{
		{"empty", wire.FramePing, nil},
		{"one byte", wire.FrameRequestHead, []byte{1}},
		{"two-byte length", wire.FrameResponseHead, bytes.Repeat([]byte{0xab}, 300)},
		{"json", wire.FrameHello, []byte(`{"appliance":"MA/MUN/RABAT:hq"}`)},
		{"unknown type", wire.FrameType(0xee), []byte("x")},
		{"largest", wire.FramePolicy, bytes.Repeat([]byte{'p'}, wire.MaxFrame)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := wire.WriteFrame(&buf, tc.typ, tc.payload); err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
			// Two frames back to back: the reader must stop exactly at the
			// end of the first.
			if err := wire.WriteFrame(&buf, wire.FramePong, []byte("next")); err != nil {
				t.Fatal(err)
			}
			r := wire.NewReader(&buf)
			typ, payload, err := wire.ReadFrame(r, 0)
			if err != nil {
				t.Fatalf("ReadFrame: %v", err)
			}
			if typ != tc.typ || !bytes.Equal(payload, tc.payload) {
				t.Errorf("ReadFrame = %s with %d bytes, want %s with %d bytes", typ, len(payload), tc.typ, len(tc.payload))
			}
			typ, payload, err = wire.ReadFrame(r, 0)
			if err != nil || typ != wire.FramePong || string(payload) != "next" {
				t.Errorf("second ReadFrame = %s %q %v, want pong \"next\"", typ, payload, err)
			}
			if _, _, err := wire.ReadFrame(r, 0); err != io.EOF {
				t.Errorf("ReadFrame at the end = %v, want io.EOF", err)
			}
		})
	}
}

// countingWriter counts Write calls: a frame must go out in one.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestWriteFrameSingleWrite(t *testing.T) {
	var w countingWriter
	if err := wire.WriteFrame(&w, wire.FramePolicy, make([]byte, 100000)); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Errorf("WriteFrame made %d writes, want 1", w.writes)
	}
	// type byte, a three-byte uvarint for 100000, then the payload.
	if want := 1 + 3 + 100000; w.Len() != want {
		t.Errorf("frame is %d bytes, want %d", w.Len(), want)
	}
}

func TestWriteFrameTooLarge(t *testing.T) {
	var w countingWriter
	err := wire.WriteFrame(&w, wire.FramePolicy, make([]byte, wire.MaxFrame+1))
	if !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("WriteFrame = %v, want ErrFrameTooLarge", err)
	}
	if w.writes != 0 {
		t.Errorf("WriteFrame wrote %d times before refusing", w.writes)
	}
}

// header returns a frame's type byte and declared length with no payload.
func header(t wire.FrameType, n uint64) []byte { return appendUvarint([]byte{byte(t)}, n) }

func TestReadFrameTooLarge(t *testing.T) {
	tests := []struct {
		name     string
		declared uint64
		max      int
	}{
		{"over MaxFrame", wire.MaxFrame + 1, 0},
		{"over the caller's max", 11, 10},
		{"max above MaxFrame is clamped", wire.MaxFrame + 1, 2 * wire.MaxFrame},
		{"negative max means MaxFrame", wire.MaxFrame + 1, -1},
		{"largest uvarint", 1<<64 - 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The payload is there in full, so only the limit can refuse it
			// (the first case aside, which would need 16 MiB of input).
			in := header(wire.FrameRequestHead, tc.declared)
			if tc.declared < 1<<10 {
				in = append(in, make([]byte, tc.declared)...)
			}
			_, _, err := wire.ReadFrame(wire.NewReader(bytes.NewReader(in)), tc.max)
			if !errors.Is(err, wire.ErrFrameTooLarge) {
				t.Fatalf("ReadFrame = %v, want ErrFrameTooLarge", err)
			}
		})
	}
	// At the caller's max exactly, the frame is read.
	in := append(header(wire.FrameRequestHead, 10), make([]byte, 10)...)
	if _, p, err := wire.ReadFrame(wire.NewReader(bytes.NewReader(in)), 10); err != nil || len(p) != 10 {
		t.Errorf("ReadFrame at the limit = %d bytes, %v; want 10 bytes", len(p), err)
	}
}

// TestReadFrameTooLargeAllocates checks that a refused length is refused
// before the declared size is allocated: a peer must not be able to make
// the reader reserve memory with a few bytes.
func TestReadFrameTooLargeAllocates(t *testing.T) {
	in := header(wire.FramePolicy, 1<<40)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, _, err := wire.ReadFrame(bufio.NewReader(bytes.NewReader(in)), 0); !errors.Is(err, wire.ErrFrameTooLarge) {
			t.Fatalf("ReadFrame = %v, want ErrFrameTooLarge", err)
		}
	}
	// One declared MaxFrame+1 through the caller's limit of 1 KiB as well.
	in = header(wire.FramePolicy, wire.MaxFrame)
	if _, _, err := wire.ReadFrame(bufio.NewReader(bytes.NewReader(in)), 1<<10); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("ReadFrame = %v, want ErrFrameTooLarge", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing 11 oversized frames allocated %d bytes", got)
	}
}

func TestReadFrameEOF(t *testing.T) {
	// Nothing at all is a clean close: io.EOF itself, not wrapped, so that
	// callers can compare with ==.
	if _, _, err := wire.ReadFrame(wire.NewReader(strings.NewReader("")), 0); err != io.EOF {
		t.Errorf("ReadFrame on empty input = %v, want io.EOF", err)
	}
	full := append(header(wire.FrameHello, 300), bytes.Repeat([]byte{'h'}, 300)...)
	// Every cut inside the frame is a broken frame, not a clean close.
	for i := 1; i < len(full); i++ {
		_, _, err := wire.ReadFrame(wire.NewReader(bytes.NewReader(full[:i])), 0)
		if !errors.Is(err, wire.ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadFrame on the first %d of %d bytes = %v, want ErrMalformed wrapping io.ErrUnexpectedEOF", i, len(full), err)
		}
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadFrameKeepsCause checks that a stream failure inside a frame stays
// visible behind ErrMalformed, so that a reset or a deadline is passed on
// as what it was.
func TestReadFrameKeepsCause(t *testing.T) {
	cause := errors.New("stream reset by peer")
	for _, in := range [][]byte{{byte(wire.FrameHello)}, header(wire.FrameHello, 5)} {
		_, _, err := wire.ReadFrame(wire.NewReader(&failingReader{data: in, err: cause}), 0)
		if !errors.Is(err, wire.ErrMalformed) || !errors.Is(err, cause) {
			t.Errorf("ReadFrame after %d bytes = %v, want ErrMalformed wrapping the cause", len(in), err)
		}
	}
}

func TestReadFrameBadLength(t *testing.T) {
	// Eleven continuation bytes: no uvarint is that long.
	in := append([]byte{byte(wire.FrameHello)}, bytes.Repeat([]byte{0x80}, 11)...)
	_, _, err := wire.ReadFrame(wire.NewReader(bytes.NewReader(in)), 0)
	if !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("ReadFrame with an overlong length = %v, want ErrMalformed", err)
	}
}

func TestFrameTypeString(t *testing.T) {
	tests := []struct {
		typ  wire.FrameType
		want string
	}{
		{wire.FrameHello, "hello"}, {wire.FrameRequestHead, "request-head"}, {wire.FrameError, "error"},
		{wire.FrameEnrolled, "enrolled"}, {wire.FrameType(0x7f), "frame(0x7f)"},
	}
	for _, tc := range tests {
		if got := tc.typ.String(); got != tc.want {
			t.Errorf("FrameType(%#x).String() = %q, want %q", byte(tc.typ), got, tc.want)
		}
	}
	// Every known type has its own name, so that logs tell them apart.
	seen := map[string]wire.FrameType{}
	for b := range 256 {
		typ := wire.FrameType(b)
		name := typ.String()
		if strings.HasPrefix(name, "frame(") {
			continue
		}
		if other, dup := seen[name]; dup {
			t.Errorf("types %#x and %#x are both named %q", byte(other), b, name)
		}
		seen[name] = typ
	}
}
