package wire_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/babgate/bab/wire"
)

// The head fuzzers check what a peer's bytes can do to the decoder: never
// panic, fail only with ErrMalformed, and when a head is accepted, encoding
// it again gives bytes that decode to the same head and encode to the same
// bytes (the encoding is a fixed point after one round).

func FuzzRequestHead(f *testing.F) {
	for _, tc := range requestHeads {
		b, err := tc.in.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	// The largest timeout, so that mutations reach the ones too large for
	// a time.Duration.
	if b, err := (&wire.RequestHead{Timeout: 1<<63 - 1}).MarshalBinary(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h wire.RequestHead
		if err := h.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("UnmarshalBinary error %v does not match ErrMalformed", err)
			}
			return
		}
		if h.Timeout < 0 {
			t.Fatalf("decoded a negative timeout %v", h.Timeout)
		}
		checkFixedPoint(t, &h, new(wire.RequestHead), len(data))
	})
}

func FuzzResponseHead(f *testing.F) {
	for _, tc := range responseHeads {
		b, err := tc.in.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 0x63, 0, 0}) // status 99
	f.Fuzz(func(t *testing.T, data []byte) {
		var h wire.ResponseHead
		if err := h.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("UnmarshalBinary error %v does not match ErrMalformed", err)
			}
			return
		}
		if h.Status < 100 || h.Status > 999 {
			t.Fatalf("accepted status %d", h.Status)
		}
		checkFixedPoint(t, &h, new(wire.ResponseHead), len(data))
	})
}

type head interface {
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// checkFixedPoint encodes h, decodes that into fresh, and checks both
// agree. n is the size of the input h came from: a canonical encoding is
// never longer than the input, so it can only exceed MaxHead if the input
// did.
func checkFixedPoint(t *testing.T, h, fresh head, n int) {
	t.Helper()
	b, err := h.MarshalBinary()
	if err != nil {
		if errors.Is(err, wire.ErrHeadTooLarge) && n > wire.MaxHead {
			return
		}
		t.Fatalf("MarshalBinary of a decoded head: %v", err)
	}
	if len(b) > n {
		t.Fatalf("re-encoding grew the head from %d to %d bytes", n, len(b))
	}
	if err := fresh.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary of a re-encoded head: %v", err)
	}
	if !reflect.DeepEqual(h, fresh) {
		t.Fatalf("decode→encode→decode changed the head:\n%+v\n%+v", h, fresh)
	}
	b2, err := fresh.MarshalBinary()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("second encoding differs (%v):\n%x\n%x", err, b, b2)
	}
}

// FuzzReadFrame reads one frame from arbitrary bytes under a small limit,
// as every request stream does with MaxHead.
func FuzzReadFrame(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{byte(wire.FramePing), 0},
		append(header(wire.FrameHello, 5), "hello"...),
		header(wire.FramePolicy, 1<<40),
		{byte(wire.FrameHello), 0x80, 0x80},
	} {
		f.Add(seed)
	}
	const max = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		r := wire.NewReader(src)
		typ, payload, err := wire.ReadFrame(r, max)
		switch {
		case len(data) == 0:
			if err != io.EOF {
				t.Fatalf("ReadFrame on empty input = %v, want io.EOF", err)
			}
			return
		case err != nil:
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrFrameTooLarge) {
				t.Fatalf("ReadFrame error %v is neither ErrMalformed nor ErrFrameTooLarge", err)
			}
			return
		}
		if len(payload) > max {
			t.Fatalf("ReadFrame returned %d bytes under a limit of %d", len(payload), max)
		}
		consumed := len(data) - src.Len() - r.Buffered()
		var buf bytes.Buffer
		if err := wire.WriteFrame(&buf, typ, payload); err != nil {
			t.Fatalf("WriteFrame of a frame just read: %v", err)
		}
		if buf.Len() > consumed {
			t.Fatalf("re-encoded frame is %d bytes, read from %d", buf.Len(), consumed)
		}
		typ2, payload2, err := wire.ReadFrame(wire.NewReader(&buf), max)
		if err != nil || typ2 != typ || !bytes.Equal(payload2, payload) {
			t.Fatalf("frame changed on the way round: %s %x → %s %x (%v)", typ, payload, typ2, payload2, err)
		}
	})
}
