package wire

import (
	"bufio"
	"io"
	"sync"
)

// BodyReader returns a reader for the body that follows a head: first the
// bytes r already buffered, then raw directly. Reading raw directly (rather
// than through r) keeps large bodies off bufio's small buffer.
func BodyReader(r *bufio.Reader, raw io.Reader) io.Reader {
	return &bodyReader{r: r, raw: raw}
}

type bodyReader struct {
	r   *bufio.Reader
	raw io.Reader
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.r != nil {
		if b.r.Buffered() > 0 {
			return b.r.Read(p)
		}
		b.r = nil
	}
	return b.raw.Read(p)
}

// copyBufSize is large enough to keep QUIC streams busy with few syscalls
// and small enough that thousands of concurrent copies stay within budget.
const copyBufSize = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// GetCopyBuffer lends the buffer Copy uses, for a copy loop of its own;
// PutCopyBuffer gives it back.
func GetCopyBuffer() *[]byte { return bufPool.Get().(*[]byte) }

// PutCopyBuffer gives back a buffer from GetCopyBuffer.
func PutCopyBuffer(b *[]byte) { bufPool.Put(b) }

// Copy copies src to dst with a pooled buffer. Unlike io.Copy it never
// takes a WriterTo/ReaderFrom shortcut, which for bufio and QUIC streams
// would fall back to small buffers. It reports how many bytes were written
// and whether the failure, if any, was on the reading side.
func Copy(dst io.Writer, src io.Reader) (n int64, readErr, writeErr error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, nil, werr
			}
			if nw != nr {
				return n, nil, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return n, nil, nil
		}
		if rerr != nil {
			return n, rerr, nil
		}
	}
}
