package wire

import (
	"bufio"
	"encoding"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
)

// FrameType says what a frame's payload is.
type FrameType byte

// Frame types. Control frames carry JSON; head frames carry the binary
// encoding in head.go because they sit on every request.
const (
	FrameHello        FrameType = 0x01 // appliance → exchange, first frame of the control stream
	FrameWelcome      FrameType = 0x02 // exchange → appliance
	FramePolicy       FrameType = 0x03 // exchange → appliance: a signed policy bundle
	FramePolicyAck    FrameType = 0x04 // appliance → exchange
	FramePing         FrameType = 0x05
	FramePong         FrameType = 0x06
	FrameRenew        FrameType = 0x07 // appliance → exchange: certificate signing request
	FrameRenewed      FrameType = 0x08 // exchange → appliance: new certificate chain or error
	FrameAttest       FrameType = 0x09 // exchange → appliance: quote these PCRs with this nonce
	FrameQuote        FrameType = 0x0a // appliance → exchange: the quote
	FrameAttested     FrameType = 0x0b // exchange → appliance: the verdict (quarantined or not)
	FrameProbe        FrameType = 0x0c // appliance → exchange, instead of hello: a welcome without a session (bab doctor)
	FramePolicyDelta  FrameType = 0x0d // exchange → appliance: a signed bundle as a delta (policy.Delta, binary)
	FrameRequestHead  FrameType = 0x10
	FrameResponseHead FrameType = 0x11
	FrameError        FrameType = 0x12 // a typed error instead of a response head
	// End-to-end protected requests (package seal): what the exchange
	// reads, then what only the two appliances can.
	FrameRoute       FrameType = 0x13 // consumer → provider: the route head, in clear
	FrameSealHello   FrameType = 0x14 // consumer → provider: a session handshake's first message
	FrameSealReply   FrameType = 0x15 // provider → consumer: its answer
	FrameSealedHead  FrameType = 0x16 // a request or response head, sealed
	FrameSealedBody  FrameType = 0x17 // a piece of a body, sealed
	FrameSealedEnd   FrameType = 0x18 // the last piece of a body, sealed (possibly empty)
	FrameSealedError FrameType = 0x19 // provider → consumer: a typed error, its code in clear and its text sealed
	FrameEnroll      FrameType = 0x20 // appliance → exchange on an enrollment connection
	FrameEnrolled    FrameType = 0x21
	FrameChallenge   FrameType = 0x22 // exchange → appliance: credential and nonce for a TPM enrollment
	FrameProof       FrameType = 0x23 // appliance → exchange: the answer to a challenge
	// Evidence (package evidence): an appliance's signed batches of
	// digests of the requests it sent or answered, and the exchange's
	// acknowledgement once it logged one (or why it refused it).
	FrameEvidence    FrameType = 0x32 // appliance → exchange, control stream: a signed batch (binary, see Evidence)
	FrameEvidenceAck FrameType = 0x33 // exchange → appliance, control stream: JSON EvidenceAck
)

func (t FrameType) String() string {
	switch t {
	case FrameHello:
		return "hello"
	case FrameWelcome:
		return "welcome"
	case FramePolicy:
		return "policy"
	case FramePolicyAck:
		return "policy-ack"
	case FramePing:
		return "ping"
	case FramePong:
		return "pong"
	case FrameRenew:
		return "renew"
	case FrameRenewed:
		return "renewed"
	case FrameAttest:
		return "attest"
	case FrameQuote:
		return "quote"
	case FrameAttested:
		return "attested"
	case FrameProbe:
		return "probe"
	case FramePolicyDelta:
		return "policy-delta"
	case FrameRequestHead:
		return "request-head"
	case FrameResponseHead:
		return "response-head"
	case FrameError:
		return "error"
	case FrameRoute:
		return "route"
	case FrameSealHello:
		return "seal-hello"
	case FrameSealReply:
		return "seal-reply"
	case FrameSealedHead:
		return "sealed-head"
	case FrameSealedBody:
		return "sealed-body"
	case FrameSealedEnd:
		return "sealed-end"
	case FrameSealedError:
		return "sealed-error"
	case FrameEnroll:
		return "enroll"
	case FrameEnrolled:
		return "enrolled"
	case FrameChallenge:
		return "challenge"
	case FrameProof:
		return "proof"
	case FrameEvidence:
		return "evidence"
	case FrameEvidenceAck:
		return "evidence-ack"
	case FrameTraceQuery:
		return "trace-query"
	case FrameTraceRecords:
		return "trace-records"
	}
	return fmt.Sprintf("frame(0x%02x)", byte(t))
}

// MaxFrame bounds a frame's payload. Heads are small; the largest control
// frame is a policy bundle, whose own parser caps it at 16 MiB.
const MaxFrame = 16 << 20

// WriteFrame writes one frame: a type byte, the payload length as a uvarint,
// then the payload. It issues a single Write so that a frame is never split
// across stream writes by this package.
func WriteFrame(w io.Writer, t FrameType, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("%w: %s frame of %d bytes exceeds %d", ErrFrameTooLarge, t, len(payload), MaxFrame)
	}
	_, err := w.Write(AppendFrame(make([]byte, 0, 1+binary.MaxVarintLen64+len(payload)), t, payload))
	return err
}

// AppendFrame appends one frame to b, for a caller that writes several in
// one write. The payload must be at most MaxFrame bytes.
func AppendFrame(b []byte, t FrameType, payload []byte) []byte {
	b = append(b, byte(t))
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// WriteBinary writes v's binary form (a request or response head) as one
// frame of type t.
func WriteBinary(w io.Writer, t FrameType, v encoding.BinaryMarshaler) error {
	b, err := v.MarshalBinary()
	if err != nil {
		return err
	}
	return WriteFrame(w, t, b)
}

// ByteReader is what ReadFrame needs: a reader that can also hand out single
// bytes for the length prefix. *bufio.Reader satisfies it.
type ByteReader interface {
	io.Reader
	io.ByteReader
}

// ReadFrame reads one frame whose payload is at most max bytes (MaxFrame if
// max is 0). io.EOF before the first byte means the peer closed cleanly.
func ReadFrame(r ByteReader, max int) (FrameType, []byte, error) {
	if max <= 0 || max > MaxFrame {
		max = MaxFrame
	}
	t, n, err := readFrameHeader(r, max)
	if err != nil {
		return 0, nil, err
	}
	buf, err := appendPayload(nil, r, n)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s frame payload: %w", ErrMalformed, t, noEOF(err))
	}
	return t, buf, nil
}

// ReadRawFrame reads one frame as ReadFrame does and appends it to b as
// it came, type and length included, for a hop that passes it on
// unchanged; payload is the frame's payload within the result.
func ReadRawFrame(b []byte, r ByteReader, max int) (t FrameType, frame, payload []byte, err error) {
	t, n, err := readFrameHeader(r, max)
	if err != nil {
		return 0, nil, nil, err
	}
	start := len(b)
	b = binary.AppendUvarint(append(b, byte(t)), n)
	at := len(b)
	if b, err = appendPayload(b, r, n); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %s frame payload: %w", ErrMalformed, t, noEOF(err))
	}
	return t, b[start:], b[at:], nil
}

// appendPayload appends n bytes read from r to b. A payload of up to 4 KiB
// takes one allocation; a larger one grows as its bytes arrive rather than
// as its declared length says, so that a peer cannot make us reserve the
// limit with a few bytes.
func appendPayload(b []byte, r io.Reader, n uint64) ([]byte, error) {
	if b == nil {
		b = make([]byte, 0, min(n, 4096))
	}
	for n > 0 {
		k := int(min(n, uint64(max(cap(b)-len(b), len(b), 4096))))
		b = slices.Grow(b, k)
		m, err := io.ReadFull(r, b[len(b):len(b)+k])
		b = b[:len(b)+m]
		if err != nil {
			return b, err
		}
		n -= uint64(k)
	}
	return b, nil
}

// ReadFrameInto is ReadFrame for small limits and frames that come one
// after another (the pieces of a sealed body): the payload is read into
// buf, grown to the frame's length when needed, so that a reader reuses
// one buffer. The payload is valid until the next call with the same buf.
func ReadFrameInto(r ByteReader, max int, buf []byte) (FrameType, []byte, error) {
	t, n, err := readFrameHeader(r, max)
	if err != nil {
		return 0, nil, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, fmt.Errorf("%w: %s frame payload: %w", ErrMalformed, t, noEOF(err))
	}
	return t, buf, nil
}

// readFrameHeader reads a frame's type and length, and refuses a length
// over max before anything of the payload is read.
func readFrameHeader(r ByteReader, max int) (FrameType, uint64, error) {
	tb, err := r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s frame length: %w", ErrMalformed, FrameType(tb), noEOF(err))
	}
	if n > uint64(max) {
		return 0, 0, fmt.Errorf("%w: %s frame of %d bytes exceeds %d", ErrFrameTooLarge, FrameType(tb), n, max)
	}
	return FrameType(tb), n, nil
}

// readerSize is the buffer of a frame reader: small, because after the
// head the body is read through the same bufio.Reader, which passes large
// reads straight through to the stream.
const readerSize = 4096

// NewReader wraps a stream for frame reading.
func NewReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, readerSize) }

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readerSize) }}

// GetReader is NewReader with a buffer from a pool: a request's hops each
// read its stream through one. PutReader gives it back.
func GetReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// PutReader gives back a reader from GetReader once nothing reads through
// it any more, nor through a reader that wraps it.
func PutReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

// AppendBuffered appends what r holds already read from its stream to b,
// and takes it out of r: a hop passes on with the head what came with it.
func AppendBuffered(b []byte, r *bufio.Reader) []byte {
	p, _ := r.Peek(r.Buffered())
	b = append(b, p...)
	_, _ = r.Discard(len(p))
	return b
}

// Ended reports, without waiting, whether r holds nothing more and its
// stream is known to have ended cleanly (the FIN came with the bytes
// already read): a hop that passed on what r held may then close at once.
func Ended(r *bufio.Reader) bool {
	if r.Buffered() > 0 {
		return false
	}
	// A read of nothing returns the error the last fill met, at once.
	_, err := r.Read(nil)
	return err == io.EOF
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
