package evidence

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// Digest is a SHA-256 or HMAC-SHA-256 value; the zero value means absent.
type Digest [sha256.Size]byte

// IsZero reports whether d is absent.
func (d Digest) IsZero() bool { return d == Digest{} }

// String is d in hexadecimal.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Salt keys the digests of one request: the session's
// seal.Session.EvidenceSalt for the request's number. Both appliances
// derive it, the exchange cannot; the consumer's gateway hands it to the
// local system that called (Bab-Evidence-Salt on the answer), the
// provider's appliance to its backend (the same header on the request), so
// that whoever holds a body and its salt can check it against the log.
type Salt [32]byte

// String is s in hexadecimal, as the Bab-Evidence-Salt header carries it.
func (s Salt) String() string { return hex.EncodeToString(s[:]) }

// ParseSalt reads a salt in hexadecimal.
func ParseSalt(s string) (Salt, error) {
	var salt Salt
	if len(s) != 2*len(salt) {
		return salt, fmt.Errorf("%w: a salt is %d hexadecimal digits, not %d", ErrMalformed, 2*len(salt), len(s))
	}
	if _, err := hex.Decode(salt[:], []byte(s)); err != nil {
		return salt, fmt.Errorf("%w: salt: %v", ErrMalformed, err)
	}
	return salt, nil
}

// What a digest is of: each is an HMAC-SHA-256 keyed with the request's
// salt, over one of these labels and then the bytes, so that a digest of
// one kind never passes for another's.
const (
	labelTarget       = "bab evidence v1 target\x00"
	labelRequestHead  = "bab evidence v1 request head\x00"
	labelRequestBody  = "bab evidence v1 request body\x00"
	labelResponseHead = "bab evidence v1 response head\x00"
	labelResponseBody = "bab evidence v1 response body\x00"
)

// Kinds of answer a response head digest is of.
const (
	answerHead    = 1 // a sealed response head: status, headers, length
	answerRefusal = 2 // a sealed refusal: its code and its sealed text
)

// HMAC-SHA-256 (RFC 2104) is computed here rather than with crypto/hmac,
// whose setup costs half a dozen allocations: a request's small digests
// are hashed from a pooled buffer, and a body's through one SHA-256 state.
// The salt is 32 bytes, shorter than SHA-256's 64-byte block, so it is the
// HMAC key as it is, padded with zeros.

func pads(salt Salt) (ipad, opad [sha256.BlockSize]byte) {
	for i := range ipad {
		var k byte
		if i < len(salt) {
			k = salt[i]
		}
		ipad[i], opad[i] = k^0x36, k^0x5c
	}
	return ipad, opad
}

// outer finishes an HMAC from its inner hash.
func outer(opad *[sha256.BlockSize]byte, inner []byte) Digest {
	var b [sha256.BlockSize + sha256.Size]byte
	copy(b[:], opad[:])
	copy(b[sha256.BlockSize:], inner)
	return sha256.Sum256(b[:])
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// keyed is HMAC-SHA-256 keyed with salt over label and what fill appends.
func keyed(salt Salt, label string, fill func([]byte) []byte) Digest {
	bp := scratch.Get().(*[]byte)
	ipad, opad := pads(salt)
	b := append((*bp)[:0], ipad[:]...)
	b = append(b, label...)
	b = fill(b)
	inner := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		scratch.Put(bp)
	}
	return outer(&opad, inner[:])
}

// Target is the digest of what was asked: the method, a space, the path
// inside the service and, when there is a query, "?" and the raw query —
// "GET /citizens/42?cin=AB1234" — the line a caller and a backend both
// know. `bab trace verify-receipt --target` checks it.
func Target(salt Salt, method, path, query string) Digest {
	return keyed(salt, labelTarget, func(b []byte) []byte {
		b = append(append(append(b, method...), ' '), path...)
		if query != "" {
			b = append(append(b, '?'), query...)
		}
		return b
	})
}

// RequestHead is the digest of the request's head as the consumer sealed
// it: the route head's fields that the seal authenticates
// (wire.RouteHead.AuthBytes: id, service, method, provider, session,
// number, length, calling system, purpose), then the sealed head's clear
// bytes (path, query and headers, wire.RequestHead encoded).
func RequestHead(salt Salt, auth, clear []byte) Digest {
	return keyed(salt, labelRequestHead, func(b []byte) []byte {
		return append(append(binary.AppendUvarint(b, uint64(len(auth))), auth...), clear...)
	})
}

// ResponseHead is the digest of the answer's sealed head, as its clear
// bytes (status, headers and length, wire.ResponseHead encoded).
func ResponseHead(salt Salt, clear []byte) Digest {
	return keyed(salt, labelResponseHead, func(b []byte) []byte { return append(append(b, answerHead), clear...) })
}

// Refusal is the digest of a provider's sealed refusal, its code and its
// opened text, in place of a response head.
func Refusal(salt Salt, code string, text []byte) Digest {
	return keyed(salt, labelResponseHead, func(b []byte) []byte {
		b = binary.AppendUvarint(append(b, answerRefusal), uint64(len(code)))
		return append(append(b, code...), text...)
	})
}

// BodyDigest is the digest of a whole body given at once; Body hashes one
// as it streams.
func BodyDigest(salt Salt, request bool, body []byte) Digest {
	b := NewBody(salt, request)
	_, _ = b.Write(body)
	b.End()
	d, _ := b.Sum()
	return d
}

// Body hashes a body as it is copied: the copy writes through Writer or
// reads through Reader, at the cost of one HMAC-SHA-256 pass over the
// bytes. Its digest counts only once the body ended whole (End, or
// io.EOF through Reader): a body cut off has none. Safe for concurrent
// use: a backend's HTTP client may still be reading a request's body when
// its answer is done.
type Body struct {
	mu    sync.Mutex
	h     hash.Hash // SHA-256, the inner hash of the HMAC
	pad   [sha256.BlockSize]byte
	sum   [sha256.Size]byte
	whole bool
	tw    teeWriter
	tr    teeReader
}

var bodyLabels = [2][]byte{[]byte(labelResponseBody), []byte(labelRequestBody)}

// NewBody starts the digest of a request's body (request) or an answer's.
func NewBody(salt Salt, request bool) *Body {
	b := &Body{h: sha256.New()}
	var opad [sha256.BlockSize]byte
	b.pad, opad = pads(salt)
	b.h.Write(b.pad[:])
	b.pad = opad
	label := bodyLabels[0]
	if request {
		label = bodyLabels[1]
	}
	b.h.Write(label)
	return b
}

// Write hashes p.
func (b *Body) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.h.Write(p)
	b.mu.Unlock()
	return len(p), nil
}

// End says the body ended whole.
func (b *Body) End() {
	b.mu.Lock()
	b.whole = true
	b.mu.Unlock()
}

// Sum is the body's digest, and whether it ended whole; without it the
// digest is zero.
func (b *Body) Sum() (Digest, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.whole {
		return Digest{}, false
	}
	return outer(&b.pad, b.h.Sum(b.sum[:0])), true
}

// Writer writes to w and hashes what w took.
func (b *Body) Writer(w io.Writer) io.Writer {
	b.tw = teeWriter{w: w, b: b}
	return &b.tw
}

// Reader reads r and hashes what it read; io.EOF from r ends the body
// whole.
func (b *Body) Reader(r io.Reader) io.Reader {
	b.tr = teeReader{r: r, b: b}
	return &b.tr
}

type teeWriter struct {
	w io.Writer
	b *Body
}

func (t *teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	_, _ = t.b.Write(p[:n])
	return n, err
}

type teeReader struct {
	r io.Reader
	b *Body
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	_, _ = t.b.Write(p[:n])
	if err == io.EOF {
		t.b.End()
	}
	return n, err
}
