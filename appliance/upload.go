package appliance

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// upload streams a caller's request body into its tunnel stream while the
// answer is awaited, since a provider may answer before it has read
// everything. It belongs to its request: stop ends it and waits for it, so
// no goroutine reads the caller's body after the handler returned.
//
// The gateway's handler is full duplex (see startUpload): without that,
// net/http discards up to 256 KiB of a body that is still unread when the
// answer starts, and the provider would receive a body with a hole in it.
type upload struct {
	s    transport.Stream
	bw   *seal.BodyWriter
	hash *evidence.Body // the body's evidence digest, as it is sealed
	rc   *http.ResponseController
	done chan struct{}
	// read says the caller's body was read to its end: net/http then
	// waits on the connection for the next request, and a read deadline
	// set now would end that wait and cancel the context of every later
	// request on the connection.
	read atomic.Bool
	// Set before done closes.
	why  atomic.Int32 // uploadOK, uploadTooLarge, uploadReadFailed, uploadStopped
	rerr error
}

const (
	uploadOK int32 = iota
	uploadTooLarge
	uploadReadFailed
	uploadStopped // the stream refused more (the provider answered) or stop was called
)

var errBodyTooLarge = errors.New("request body exceeds the gateway limit")

// startUpload enables full duplex on w and starts sealing r's body (length
// as in the head, limit 0 for none) into s through bw, hashing it into
// hash. A bodiless request's stream was closed with its head (send).
func startUpload(w http.ResponseWriter, r *http.Request, s transport.Stream, bw *seal.BodyWriter, hash *evidence.Body, length, limit int64) *upload {
	u := &upload{s: s, bw: bw, hash: hash, rc: http.NewResponseController(w), done: make(chan struct{})}
	if length == 0 {
		hash.End() // an empty body, whole
		close(u.done)
		return u
	}
	// Without full duplex net/http would eat into the body as soon as the
	// answer starts. Only HTTP/1 needs it; HTTP/2 writers say unsupported.
	_ = u.rc.EnableFullDuplex()
	go u.run(r.Body, limit)
	return u
}

func (u *upload) run(body io.Reader, limit int64) {
	defer close(u.done)
	if limit > 0 {
		body = &limitReader{r: body, left: limit}
	}
	body = &endReader{r: body, end: &u.read}
	_, rerr, werr := wire.Copy(u.hash.Writer(u.bw), body)
	if rerr == nil && werr == nil {
		werr = u.bw.Close() // the sealed last piece: the body is whole
	}
	if rerr == nil && werr == nil {
		u.hash.End()
	}
	switch {
	case errors.Is(rerr, errBodyTooLarge):
		u.why.Store(uploadTooLarge)
		wire.Abort(u.s, wire.CodeBodyTooLarge)
	case rerr != nil:
		u.rerr = rerr
		u.why.Store(uploadReadFailed)
		u.s.CancelWrite(wire.CodeCanceled) // never a FIN after part of a body
	case werr != nil:
		u.why.Store(uploadStopped) // the stream was reset; the answer says why
	default:
		_ = u.s.Close()
	}
}

// stop ends the upload if it is still running, whatever it is blocked on
// (a caller that stalls its body, or a stream that takes no more), and
// waits for it.
func (u *upload) stop() {
	select {
	case <-u.done:
		return
	default:
	}
	// The deadline stays in the past: the rest of the body will not be
	// read, so net/http must not wait for a stalled caller to discard it
	// either; the connection closes after the answer. A body read to its
	// end needs none: the upload is only sealing its end.
	if !u.read.Load() {
		_ = u.rc.SetReadDeadline(time.Now())
	}
	u.s.CancelWrite(wire.CodeCanceled)
	<-u.done
	u.why.CompareAndSwap(uploadReadFailed, uploadStopped) // the deadline we set is not the caller's fault
}

// finished reports whether the upload has ended, without waiting.
func (u *upload) finished() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

func (u *upload) tooLarge() bool { return u.finished() && u.why.Load() == uploadTooLarge }

// readErr is the error reading the caller's body, if the upload ended on one.
func (u *upload) readErr() error {
	if u.finished() && u.why.Load() == uploadReadFailed {
		return u.rerr
	}
	return nil
}

// whole reports whether the caller's body was read to its end (or there
// was none).
func (u *upload) whole() bool { return u.finished() && u.why.Load() == uploadOK }

// failed reports whether the caller's body broke or was too large.
func (u *upload) failed() bool { return u.readErr() != nil || u.tooLarge() }

// endReader notes when its reader reached the end.
type endReader struct {
	r   io.Reader
	end *atomic.Bool
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.end.Store(true)
	}
	return n, err
}

// limitReader fails once more than left bytes were read, so that a body
// without Content-Length is refused when it grows too large.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}
