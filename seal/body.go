package seal

import (
	"errors"
	"fmt"
	"io"

	"github.com/babgate/bab/wire"
)

// PieceSize is the most of a body one sealed piece carries.
const PieceSize = 16 << 10

// BodyWriter seals a body into sealed-body frames as it is written, each
// piece at most PieceSize, and Close ends it with the sealed last piece.
// Each Write goes out at once: a streamed body is not held back.
type BodyWriter struct {
	s     *Session
	d     Direction
	seq   uint64
	piece uint32
	w     io.Writer
	buf   []byte
	lead  []byte // goes out before the next write's pieces (Lead)
}

// Lead makes the next write carry b first: a head and the first piece of
// its body, or all of a small body, leave in one stream write.
func (b *BodyWriter) Lead(p []byte) { b.lead = p }

// WriteLast seals p and the last piece in one write: the body ends with p.
func (b *BodyWriter) WriteLast(p []byte) error {
	if err := b.fill(p); err != nil {
		return err
	}
	if err := b.seal(wire.FrameSealedEnd, true, nil); err != nil {
		return err
	}
	return b.flush()
}

// NewBodyWriter seals the body of request seq going in direction d.
func (s *Session) NewBodyWriter(w io.Writer, d Direction, seq uint64) *BodyWriter {
	return &BodyWriter{s: s, d: d, seq: seq, w: w}
}

func (b *BodyWriter) Write(p []byte) (int, error) {
	if err := b.fill(p); err != nil {
		return 0, err
	}
	if err := b.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes the last piece, empty: a body that ends without it is cut
// off, not complete.
func (b *BodyWriter) Close() error { return b.WriteLast(nil) }

// fill starts the next write's buffer: the lead, if any, then every piece
// of p sealed, so that it all goes in one write: a stream write costs more
// than sealing 16 KiB.
func (b *BodyWriter) fill(p []byte) error {
	b.buf = append(b.buf[:0], b.lead...)
	b.lead = nil
	for rest := p; len(rest) > 0; {
		k := min(len(rest), PieceSize)
		if err := b.seal(wire.FrameSealedBody, false, rest[:k]); err != nil {
			return err
		}
		rest = rest[k:]
	}
	return nil
}

func (b *BodyWriter) flush() error {
	_, err := b.w.Write(b.buf)
	return err
}

// seal appends one frame holding a sealed piece to b.buf.
func (b *BodyWriter) seal(t wire.FrameType, last bool, plain []byte) error {
	b.piece++
	if b.piece == 0 {
		return fmt.Errorf("seal: body of more than 2^32 pieces")
	}
	b.buf = b.s.AppendFrame(b.buf, t, b.d, b.seq, b.piece, last, nil, plain)
	return nil
}

// BodyReader opens a sealed body: it returns io.EOF only after the sealed
// last piece, ErrTruncated when the stream ends before it, ErrTampered when
// a piece does not open.
type BodyReader struct {
	s     *Session
	d     Direction
	seq   uint64
	piece uint32
	r     wire.ByteReader
	rest  []byte
	plain []byte
	done  bool
	err   error
}

// NewBodyReader opens the body of request seq that came in direction d.
func (s *Session) NewBodyReader(r wire.ByteReader, d Direction, seq uint64) *BodyReader {
	return &BodyReader{s: s, d: d, seq: seq, r: r}
}

func (b *BodyReader) Read(p []byte) (int, error) {
	for len(b.rest) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.done {
			return 0, io.EOF
		}
		b.err = b.next()
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

// Prime opens the body's first piece now, so that a body that is not the
// one sealed for this request is refused before anything of the request is
// passed on.
func (b *BodyReader) Prime() error {
	if len(b.rest) == 0 && !b.done && b.err == nil {
		b.err = b.next()
	}
	return b.err
}

// next reads and opens one piece.
func (b *BodyReader) next() error {
	t, sealed, err := wire.ReadFrameInto(b.r, PieceSize+Overhead, b.plain)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w after %d pieces", ErrTruncated, b.piece)
	}
	if err != nil {
		return err
	}
	if t != wire.FrameSealedBody && t != wire.FrameSealedEnd {
		return fmt.Errorf("%w: %s in a sealed body", ErrMalformed, t)
	}
	b.piece++
	last := t == wire.FrameSealedEnd
	// Opened in place: the frame's buffer is the reader's, reused.
	b.plain = sealed
	plain, err := b.s.Open(sealed[:0], b.d, b.seq, b.piece, last, nil, sealed)
	if err != nil {
		return err
	}
	b.rest, b.done = plain, last
	return nil
}
