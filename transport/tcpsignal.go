package transport

import (
	"encoding/binary"
	"io"

	"github.com/quic-go/quic-go"
)

// The signal stream carries frames of a type byte and a fixed body:
//
//	RESET        stream id (4 bytes) and error code (8 bytes): the sender's
//	             write direction of that stream ended with the code; the
//	             receiver's reads fail with it. No FIN follows a RESET.
//	STOP_SENDING stream id and code: the receiver's writes fail with the
//	             code; it answers with a RESET, as QUIC does.
//	CLOSE        code (8 bytes), reason length (2 bytes), reason: the
//	             connection closes; the receiver hangs up.
const (
	sigReset byte = 1
	sigStop  byte = 2
	sigClose byte = 3
)

// maxReason bounds a close reason on the wire.
const maxReason = 1024

func encodeStream(t byte, id uint32, code StreamErrorCode) []byte {
	b := make([]byte, 13)
	b[0] = t
	binary.BigEndian.PutUint32(b[1:], id)
	binary.BigEndian.PutUint64(b[5:], uint64(code))
	return b
}

func encodeClose(code ApplicationErrorCode, reason string) []byte {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	b := make([]byte, 11, 11+len(reason))
	b[0] = sigClose
	binary.BigEndian.PutUint64(b[1:], uint64(code))
	binary.BigEndian.PutUint16(b[9:], uint16(len(reason)))
	return append(b, reason...)
}

// signal sends one frame; an error means the connection is going, which
// ends everything the frame was about anyway.
func (c *tcpConn) signal(frame []byte) {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	_, _ = c.sig.Write(frame)
}

// readSignals applies the peer's signals until the connection ends. A
// malformed frame ends the connection.
func (c *tcpConn) readSignals() {
	var head [13]byte
	for {
		if _, err := io.ReadFull(c.sig, head[:1]); err != nil {
			return
		}
		switch head[0] {
		case sigReset, sigStop:
			if _, err := io.ReadFull(c.sig, head[1:13]); err != nil {
				return
			}
			id := binary.BigEndian.Uint32(head[1:])
			code := StreamErrorCode(binary.BigEndian.Uint64(head[5:]))
			c.applyStream(head[0], id, code)
		case sigClose:
			if _, err := io.ReadFull(c.sig, head[1:11]); err != nil {
				return
			}
			code := ApplicationErrorCode(binary.BigEndian.Uint64(head[1:]))
			reason := make([]byte, binary.BigEndian.Uint16(head[9:]))
			if _, err := io.ReadFull(c.sig, reason); err != nil {
				return
			}
			c.end(&quic.ApplicationError{Remote: true, ErrorCode: code, ErrorMessage: string(reason)})
			c.mux.Close()
			return
		default:
			c.end(&quic.TransportError{ErrorCode: quic.ProtocolViolation, ErrorMessage: "tcp: unknown signal"})
			c.mux.Close()
			return
		}
	}
}

func (c *tcpConn) applyStream(t byte, id uint32, code StreamErrorCode) {
	s := c.stream(id, func(p *pendingSignal) {
		if t == sigReset {
			p.reset, p.resetCode = true, code
		} else {
			p.stop, p.stopCode = true, code
		}
	})
	if s == nil {
		return
	}
	if t == sigReset {
		s.remoteReset(code)
	} else {
		s.remoteStop(code)
	}
}
