package wire

import (
	"encoding/binary"
	"fmt"
	"time"
)

// SessionIDLen is the length of an end-to-end session's identifier.
const SessionIDLen = 16

// RouteHead opens an end-to-end protected request stream: what the
// exchange reads to route, enforce and trace a request, and nothing else.
// The request's path, query and headers travel sealed after it (package
// seal), readable only by the provider appliance. The provider checks
// every field but Timeout and ConsumerAppliance as part of the seal (see
// AuthBytes), so the exchange can read them but not change them.
type RouteHead struct {
	ID      string // request id, also in the trace and logs
	Service string // provider service identifier
	Method  string // HTTP method, for the exchange's policy check
	// Provider is the provider appliance the consumer holds a session
	// with; empty on a handshake, where the exchange chooses.
	Provider string
	// Session identifies the end-to-end session the request is sealed
	// in (all zero on a handshake); Seq numbers the request in it.
	Session [SessionIDLen]byte
	Seq     uint64
	// ContentLength is the body's length in clear (-1 unknown): what the
	// trace records as the request's size.
	ContentLength int64
	// ConsumerSystem names the local system or clerk that made the call,
	// as its own appliance authenticated it; Purpose is what the caller
	// declared the call is for (Bab-Purpose).
	ConsumerSystem string
	Purpose        string
	// Timeout is what is left of the caller's deadline when sent; the
	// exchange lowers it. ConsumerAppliance is the calling appliance as
	// the exchange verified it: appliances leave it empty, the exchange
	// sets it. The provider takes the consumer from the session, not from
	// this field, and refuses the request when the two differ.
	Timeout           time.Duration
	ConsumerAppliance string
	// Subject is the person the request is about (Bab-Subject, SCHEME:ID),
	// when the service takes one: the exchange reads it to keep a keyed
	// hash of it in its trace, never the identifier. It is authenticated
	// with the other fields, and travels last and only when set, so that
	// a head without it is the same bytes as before subjects.
	Subject string
}

// routeVersion is the first byte of an encoded route head.
const routeVersion = 1

// AuthBytes encodes the fields the exchange may read but not change, for
// the seal to authenticate.
func (h *RouteHead) AuthBytes() []byte {
	b := make([]byte, 0, 128)
	b = append(b, routeVersion)
	b = appendString(b, h.ID)
	b = appendString(b, h.Service)
	b = appendString(b, h.Method)
	b = appendString(b, h.Provider)
	b = append(b, h.Session[:]...)
	b = binary.AppendUvarint(b, h.Seq)
	b = binary.AppendVarint(b, h.ContentLength)
	b = appendString(b, h.ConsumerSystem)
	b = appendString(b, h.Purpose)
	if h.Subject != "" {
		b = appendString(b, h.Subject)
	}
	return b
}

// MarshalBinary encodes the route head: the fields AuthBytes covers but
// the subject, then the fields the exchange sets, then the subject if
// any.
func (h *RouteHead) MarshalBinary() ([]byte, error) {
	sub := *h
	sub.Subject = ""
	b := sub.AuthBytes()
	b = binary.AppendUvarint(b, uint64(max(h.Timeout, 0)/time.Millisecond))
	b = appendString(b, h.ConsumerAppliance)
	if h.Subject != "" {
		b = appendString(b, h.Subject)
	}
	if len(b) > MaxHead {
		return nil, fmt.Errorf("%w: route head of %d bytes; at most %d are carried", ErrHeadTooLarge, len(b), MaxHead)
	}
	return b, nil
}

// UnmarshalBinary decodes a route head written by MarshalBinary.
func (h *RouteHead) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if v := d.byte(); v != routeVersion && d.err == nil {
		return fmt.Errorf("%w: route head version %d, want %d", ErrMalformed, v, routeVersion)
	}
	h.ID = d.string()
	h.Service = d.string()
	h.Method = d.string()
	h.Provider = d.string()
	d.bytes(h.Session[:])
	h.Seq = d.uvarint()
	h.ContentLength = d.length()
	h.ConsumerSystem = d.string()
	h.Purpose = d.string()
	h.Timeout = d.millis()
	h.ConsumerAppliance = d.string()
	h.Subject = ""
	if d.err == nil && len(d.b) > 0 {
		// One encoding per head: a subject present is not empty.
		if h.Subject = d.string(); h.Subject == "" && d.err == nil {
			return fmt.Errorf("%w: route head with an empty subject", ErrMalformed)
		}
	}
	return d.finish("route head")
}

// AppendForwarded appends the route head frame that passes on raw, a
// route head that decoded without error, with the fields the exchange
// sets: timeout and consumer. The fields it may not change, and the
// subject, go on as the bytes that came, which decode to what it checked;
// only its own fields are encoded again.
func AppendForwarded(b, raw []byte, timeout time.Duration, consumer string) ([]byte, error) {
	d := decoder{b: raw}
	d.byte()
	for range 4 { // id, service, method, provider
		d.skipString()
	}
	d.bytes(make([]byte, SessionIDLen))
	d.uvarint()
	d.varint()
	d.skipString() // consumer system
	d.skipString() // purpose
	authEnd := len(raw) - len(d.b)
	d.uvarint()    // the timeout as it came
	d.skipString() // the consumer as it came, if any
	subject := d.b // the subject, encoded, if any
	if d.err != nil {
		return nil, fmt.Errorf("route head to forward: %w", d.err)
	}
	var ms [binary.MaxVarintLen64]byte
	tail := binary.AppendUvarint(ms[:0], uint64(max(timeout, 0)/time.Millisecond))
	size := authEnd + len(tail) + stringLen(consumer) + len(subject)
	if size > MaxHead {
		return nil, fmt.Errorf("%w: route head of %d bytes; at most %d are carried", ErrHeadTooLarge, size, MaxHead)
	}
	b = binary.AppendUvarint(append(b, byte(FrameRoute)), uint64(size))
	b = append(append(b, raw[:authEnd]...), tail...)
	b = appendString(b, consumer)
	return append(b, subject...), nil
}

// stringLen is the length of s as appendString encodes it.
func stringLen(s string) int {
	var n [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(n[:0], uint64(len(s)))) + len(s)
}

// skipString passes over a string without copying it.
func (d *decoder) skipString() {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("string")
	}
	if d.err == nil {
		d.b = d.b[n:]
	}
}

// Handshake reports whether the head opens a session rather than a
// request.
func (h *RouteHead) Handshake() bool { return h.Session == [SessionIDLen]byte{} }

// bytes fills dst with the next len(dst) bytes.
func (d *decoder) bytes(dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b) < len(dst) {
		d.fail("bytes")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}
