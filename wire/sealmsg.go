package wire

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The two messages of an end-to-end session handshake (package seal says
// what they mean and how they are checked). Each is signed by its sender's
// appliance key; Signed is the part the signature covers.

// maxKey bounds a public key (an ECDSA P-256 key's SubjectPublicKeyInfo is
// 91 bytes) and maxSig a signature.
const (
	maxKey = 1024
	maxSig = 1024
)

// SealHello is the consumer appliance's opening message.
type SealHello struct {
	Consumer string    // the consumer appliance
	Key      []byte    // its appliance key, as a SubjectPublicKeyInfo
	Share    []byte    // its ephemeral X25519 public key
	Time     time.Time // when it was made, to the millisecond
	Sig      []byte
}

// SealReply is the provider appliance's answer.
type SealReply struct {
	Provider string
	Key      []byte
	Share    []byte
	Hello    [32]byte // SHA-256 of the hello it answers, signature included
	Time     time.Time
	Life     time.Duration // how long the session may be used
	Sig      []byte
}

const sealMsgVersion = 1

// Signed is the hello without its signature.
func (m *SealHello) Signed() []byte {
	b := []byte{sealMsgVersion}
	b = appendString(b, m.Consumer)
	b = appendBytes(b, m.Key)
	b = appendBytes(b, m.Share)
	return binary.AppendUvarint(b, uint64(m.Time.UnixMilli()))
}

// MarshalBinary encodes the hello with its signature.
func (m *SealHello) MarshalBinary() ([]byte, error) { return appendBytes(m.Signed(), m.Sig), nil }

// UnmarshalBinary decodes a hello.
func (m *SealHello) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if v := d.byte(); v != sealMsgVersion && d.err == nil {
		return fmt.Errorf("%w: seal hello version %d, want %d", ErrMalformed, v, sealMsgVersion)
	}
	m.Consumer = d.string()
	m.Key = d.blob(maxKey)
	m.Share = d.blob(maxKey)
	m.Time = d.unixMilli()
	m.Sig = d.blob(maxSig)
	return d.finish("seal hello")
}

// Signed is the reply without its signature.
func (m *SealReply) Signed() []byte {
	b := []byte{sealMsgVersion}
	b = appendString(b, m.Provider)
	b = appendBytes(b, m.Key)
	b = appendBytes(b, m.Share)
	b = append(b, m.Hello[:]...)
	b = binary.AppendUvarint(b, uint64(m.Time.UnixMilli()))
	return binary.AppendUvarint(b, uint64(max(m.Life, 0)/time.Millisecond))
}

// MarshalBinary encodes the reply with its signature.
func (m *SealReply) MarshalBinary() ([]byte, error) { return appendBytes(m.Signed(), m.Sig), nil }

// UnmarshalBinary decodes a reply.
func (m *SealReply) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if v := d.byte(); v != sealMsgVersion && d.err == nil {
		return fmt.Errorf("%w: seal reply version %d, want %d", ErrMalformed, v, sealMsgVersion)
	}
	m.Provider = d.string()
	m.Key = d.blob(maxKey)
	m.Share = d.blob(maxKey)
	d.bytes(m.Hello[:])
	m.Time = d.unixMilli()
	m.Life = d.millis()
	m.Sig = d.blob(maxSig)
	return d.finish("seal reply")
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// blob reads a length-prefixed byte string of at most max bytes.
func (d *decoder) blob(max int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.fail("byte string")
		return nil
	}
	v := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return v
}

// unixMilli reads a time as milliseconds since 1970.
func (d *decoder) unixMilli() time.Time {
	v := d.uvarint()
	if v > 1<<53 && d.err == nil {
		d.err = fmt.Errorf("%w: %w: time of %d ms", ErrMalformed, ErrOutOfRange, v)
		return time.Time{}
	}
	return time.UnixMilli(int64(v)).UTC()
}
