package evidence

import (
	"encoding/binary"
	"time"

	"github.com/babgate/bab/internal/canon"
)

// Side says which appliance speaks in an entry.
type Side byte

const (
	// Consumer entries say "this appliance sent this request and got this
	// answer".
	Consumer Side = 1
	// Provider entries say "this appliance got this request and sent this
	// answer".
	Provider Side = 2
)

func (s Side) String() string {
	switch s {
	case Consumer:
		return "consumer"
	case Provider:
		return "provider"
	}
	return "side(?)"
}

// Entry is one appliance's evidence of one request: who, what, in which
// session and under which number, and keyed digests (salted with the
// request's Salt) of what it sent and what it received. It holds no path,
// query, header or body, and no digest that can be checked without the
// salt. A digest is zero when there was nothing whole to hash: a request
// body cut off, no answer, an answer cut off.
type Entry struct {
	Side Side
	// At is when the request left the consumer's appliance, or when the
	// provider's opened it, by that appliance's clock.
	At       time.Time
	ID       string // the request id
	Consumer string // the consumer appliance, MEMBER:name
	Provider string // the provider appliance
	Service  string
	Method   string
	Session  [16]byte // the end-to-end session the request was sealed in
	Seq      uint64   // its number in the session
	// Target is of the method, path and query (Target); RequestHead of
	// the whole head as sealed (RequestHead); the bodies of BodyDigest.
	Target       Digest
	RequestHead  Digest
	RequestBody  Digest
	ResponseHead Digest // of the sealed response head, or of a sealed refusal
	ResponseBody Digest
}

// EntryVersion is the first byte of an encoded entry.
const EntryVersion = 1

// MaxEntry is the largest entry read; entries are made from route heads,
// whose fields are short.
const MaxEntry = 4 << 10

// maxField bounds each text field of an entry.
const maxField = 1 << 10

func (e *Entry) digests() [5]*Digest {
	return [...]*Digest{&e.Target, &e.RequestHead, &e.RequestBody, &e.ResponseHead, &e.ResponseBody}
}

// AppendBinary appends e's encoding to b: the version, the side, the time
// (zig-zag varint, nanoseconds since 1970 UTC), the id, consumer,
// provider, service and method (strings), the session (16 bytes), the
// number (uvarint), then the five digests, each a string of 32 bytes or
// empty when absent. docs/trace.md has the table.
func (e *Entry) AppendBinary(b []byte) []byte {
	b = append(b, EntryVersion, byte(e.Side))
	b = binary.AppendVarint(b, e.At.UnixNano())
	for _, s := range [...]string{e.ID, e.Consumer, e.Provider, e.Service, e.Method} {
		b = canon.AppendString(b, s)
	}
	b = append(b, e.Session[:]...)
	b = binary.AppendUvarint(b, e.Seq)
	for _, d := range e.digests() {
		if d.IsZero() {
			b = append(b, 0)
		} else {
			b = canon.AppendBytes(b, d[:])
		}
	}
	return b
}

// MarshalBinary is e's encoding.
func (e *Entry) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil), nil }

// UnmarshalBinary reads an entry in its one canonical encoding.
func (e *Entry) UnmarshalBinary(data []byte) error {
	var v entryView
	if err := v.parse(data); err != nil {
		*e = Entry{}
		return err
	}
	*e = Entry{Side: v.side, At: time.Unix(0, v.at).UTC(), ID: string(v.id), Consumer: string(v.consumer), Provider: string(v.provider),
		Service: string(v.service), Method: string(v.method), Session: [16]byte(v.session), Seq: v.seq}
	for i, d := range e.digests() {
		if len(v.digests[i]) > 0 {
			*d = Digest(v.digests[i])
		}
	}
	return nil
}

// entryView is an entry as read, its fields slices of the encoding: what
// the exchange checks of every entry of a batch, without a copy.
type entryView struct {
	side                                    Side
	at                                      int64
	id, consumer, provider, service, method []byte
	session                                 []byte
	seq                                     uint64
	digests                                 [5][]byte
}

func (v *entryView) parse(data []byte) error {
	d := canon.NewDecoder(data)
	switch {
	case len(data) > MaxEntry:
		d.Fail("entry of %d bytes, more than %d", len(data), MaxEntry)
	case len(data) > 0 && data[0] != EntryVersion:
		d.Fail("entry of version %d (this version reads %d)", data[0], EntryVersion)
	}
	d.Byte()
	v.side = Side(d.Byte())
	if d.Err() == nil && v.side != Consumer && v.side != Provider {
		d.Fail("entry of side %d", v.side)
	}
	v.at = d.Varint()
	for _, f := range [...]*[]byte{&v.id, &v.consumer, &v.provider, &v.service, &v.method} {
		*f = d.Bytes(maxField)
	}
	v.session = d.Fixed(16)
	v.seq = d.Uvarint()
	for i := range v.digests {
		b := d.Bytes(len(Digest{}))
		switch {
		case d.Err() != nil:
		case len(b) == 0:
		case len(b) != len(Digest{}) || Digest(b).IsZero():
			d.Fail("digest %d is not 32 bytes, nor absent", i+1)
		default:
			v.digests[i] = b
		}
	}
	return d.End()
}

// speaker is the appliance whose word the entry is.
func (v *entryView) speaker() []byte {
	if v.side == Provider {
		return v.provider
	}
	return v.consumer
}

// Speaker is the appliance whose word the entry is: its consumer or its
// provider, by its side.
func (e *Entry) Speaker() string {
	if e.Side == Provider {
		return e.Provider
	}
	return e.Consumer
}

// RequestID reads an encoded entry's request id, checking the whole entry
// but keeping nothing else: what the exchange's id index needs.
func RequestID(data []byte) (string, error) {
	var v entryView
	if err := v.parse(data); err != nil {
		return "", err
	}
	return string(v.id), nil
}
