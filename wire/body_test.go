package wire_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/babgate/bab/wire"
)

// chunkedStream stands for a QUIC stream: it hands out at most chunk bytes
// per Read and records the size of every buffer it was asked to fill, which
// tells reads through bufio (its buffer size) from direct reads (the
// caller's size).
type chunkedStream struct {
	data  []byte
	chunk int
	asked []int
}

func (s *chunkedStream) Read(p []byte) (int, error) {
	s.asked = append(s.asked, len(p))
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.chunk)], s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestBodyReader(t *testing.T) {
	tests := []struct {
		name  string
		body  int // body length
		chunk int // bytes the stream hands out per read
	}{
		{"no body", 0, 4096},
		{"body fully buffered with the head", 100, 4096},
		{"body partly buffered", 10000, 1000},
		{"stream hands out small pieces", 5000, 24},
		{"large body", 300000, 8192},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hb, err := (&wire.RequestHead{ID: "r1", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "POST", Path: "/echo"}).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var in bytes.Buffer
			if err := wire.WriteFrame(&in, wire.FrameRequestHead, hb); err != nil {
				t.Fatal(err)
			}
			body := make([]byte, tc.body)
			for i := range body {
				body[i] = byte(i * 7)
			}
			in.Write(body)
			s := &chunkedStream{data: in.Bytes(), chunk: tc.chunk}

			r := wire.NewReader(s)
			if _, _, err := wire.ReadFrame(r, wire.MaxHead); err != nil {
				t.Fatal(err)
			}
			buffered := r.Buffered()
			got, err := io.ReadAll(wire.BodyReader(r, s))
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("body is %d bytes, want %d (or the content differs)", len(got), len(body))
			}
			if r.Buffered() != 0 {
				t.Errorf("bufio still holds %d bytes after the body", r.Buffered())
			}
			if tc.body > 0 && buffered == 0 && tc.chunk > 24 {
				t.Errorf("nothing of the body was buffered with the head; the case tests less than it says")
			}
		})
	}
}

// TestBodyReaderDirect checks with a small read that, once the buffered
// bytes are gone, the raw stream is read with the caller's buffer and not
// through bufio, which would fill its own buffer first.
func TestBodyReaderDirect(t *testing.T) {
	s := &chunkedStream{data: []byte("HEADbody-rest-of-the-body"), chunk: 8}
	r := wire.NewReader(s)
	if _, err := io.ReadFull(r, make([]byte, 4)); err != nil { // the "head"
		t.Fatal(err)
	}
	if r.Buffered() != 4 {
		t.Fatalf("bufio holds %d bytes, want 4", r.Buffered())
	}
	br := wire.BodyReader(r, s)
	p := make([]byte, 3)
	var got []byte
	for range 100 { // bounded: the body is 21 bytes
		n, err := br.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "body-rest-of-the-body" {
		t.Fatalf("body = %q", got)
	}
	// The first read filled bufio (4096); every later one must be direct.
	for i, n := range s.asked[1:] {
		if n != len(p) {
			t.Fatalf("stream read %d asked for %d bytes, want the caller's %d: %v", i+1, n, len(p), s.asked)
		}
	}
	if r.Buffered() != 0 {
		t.Errorf("bufio still holds %d bytes", r.Buffered())
	}
}

// shortWriter accepts at most n bytes per Write without an error.
type shortWriter struct{ n int }

func (w shortWriter) Write(p []byte) (int, error) { return min(len(p), w.n), nil }

// failWriter accepts ok bytes, then fails.
type failWriter struct {
	ok  int
	err error
	buf bytes.Buffer
}

func (w *failWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.ok {
		n := w.ok - w.buf.Len()
		w.buf.Write(p[:n])
		return n, w.err
	}
	return w.buf.Write(p)
}

func TestCopy(t *testing.T) {
	errRead := errors.New("stream reset while reading")
	errWrite := errors.New("stream reset while writing")
	data := bytes.Repeat([]byte("0123456789"), 20000) // more than one copy buffer
	tests := []struct {
		name              string
		src               io.Reader
		dst               func() io.Writer
		wantN             int64
		wantRead, wantWrt error
	}{
		{"all", bytes.NewReader(data), func() io.Writer { return new(bytes.Buffer) }, int64(len(data)), nil, nil},
		{"empty", bytes.NewReader(nil), func() io.Writer { return new(bytes.Buffer) }, 0, nil, nil},
		{"data with EOF in the same read", iotest.DataErrReader(bytes.NewReader(data[:10])), func() io.Writer { return new(bytes.Buffer) }, 10, nil, nil},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data[:50])), func() io.Writer { return new(bytes.Buffer) }, 50, nil, nil},
		{"read fails after some data", io.MultiReader(bytes.NewReader(data[:70000]), iotest.ErrReader(errRead)), func() io.Writer { return new(bytes.Buffer) }, 70000, errRead, nil},
		{"read fails at once", iotest.ErrReader(errRead), func() io.Writer { return new(bytes.Buffer) }, 0, errRead, nil},
		{"write fails", bytes.NewReader(data), func() io.Writer { return &failWriter{ok: 1000, err: errWrite} }, 1000, nil, errWrite},
		{"short write", bytes.NewReader(data), func() io.Writer { return shortWriter{n: 5} }, 5, nil, io.ErrShortWrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := tc.dst()
			n, rerr, werr := wire.Copy(dst, tc.src)
			if n != tc.wantN || !errors.Is(rerr, tc.wantRead) || !errors.Is(werr, tc.wantWrt) {
				t.Fatalf("Copy = %d, read error %v, write error %v; want %d, %v, %v", n, rerr, werr, tc.wantN, tc.wantRead, tc.wantWrt)
			}
			if b, ok := dst.(*bytes.Buffer); ok && !bytes.Equal(b.Bytes(), data[:n]) {
				t.Errorf("copied bytes differ from the source")
			}
		})
	}
}
