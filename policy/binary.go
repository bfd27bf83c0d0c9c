package policy

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// signedMagic starts the binary form of a [Signed]: what the exchange sends
// and appliances store. The JSON form ([Signed.Marshal]) is for ops' files.
// A leading NUL keeps the two forms apart: JSON never starts with one.
const signedMagic = "\x00bab-signed/1\n"

// deltaMagic starts the binary form of a [Delta].
const deltaMagic = "\x00bab-delta/1\n"

// maxSignatures bounds how many signatures a signed bundle or delta may
// carry, and maxKeyID the length of a key ID: far above any real use.
const (
	maxSignatures = 64
	maxKeyID      = 128
)

// MarshalBinary encodes s in the compact form: the payload and each
// signature, length-prefixed, with no JSON to scan and no base64.
func (s *Signed) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, len(signedMagic)+binary.MaxVarintLen64+len(s.Payload)+len(s.Signatures)*(2*binary.MaxVarintLen64+32+ed25519.SignatureSize)+binary.MaxVarintLen64)
	out = append(out, signedMagic...)
	out = appendBytes(out, s.Payload)
	return appendSignatures(out, s.Signatures), nil
}

func parseSignedBinary(data []byte) (*Signed, error) {
	r := reader{data: data[len(signedMagic):]}
	s := &Signed{Payload: r.bytes(MaxSignedSize)}
	s.Signatures = r.signatures()
	if err := r.end(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkShape is what every signed bundle, in either form, must have before
// anything looks at it: a payload and well-formed signatures.
func (s *Signed) checkShape() error {
	if len(s.Payload) == 0 {
		return fmt.Errorf("%w: no payload", ErrMalformed)
	}
	return checkSignatures(s.Signatures)
}

func checkSignatures(sigs []Signature) error {
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	for i, sig := range sigs {
		if sig.KeyID == "" || len(sig.Sig) != ed25519.SignatureSize {
			return fmt.Errorf("%w: signatures[%d] needs a key_id and a %d-byte sig", ErrMalformed, i, ed25519.SignatureSize)
		}
	}
	return nil
}

// Delta is a signed bundle told against an earlier one that the appliance
// holds: the payload sections that changed, and the new bundle's
// signatures. The appliance rebuilds the whole payload from the bundle in
// force ([Policy.Patch]) and verifies the signatures over all of it, so a
// delta is exactly as trustworthy as the full bundle; it is only smaller.
// A bundle that changes no more than its version weighs a few hundred
// bytes this way, against tens of kilobytes for a fleet's full bundle.
type Delta struct {
	baseVersion uint64
	baseSig     []byte // a signature of the base, which names its exact bytes
	changed     [numSections][]byte
	signatures  []Signature
}

// NewDelta writes next as a delta against base. Both must come from
// [Signed.VerifyOver] (they carry their payloads); it fails otherwise.
func NewDelta(base, next *Policy) (*Delta, error) {
	if base == nil || next == nil || base.signed == nil || next.signed == nil {
		return nil, fmt.Errorf("policy delta: both bundles must be verified ones")
	}
	d := &Delta{baseVersion: base.Version(), baseSig: base.signed.Signatures[0].Sig, signatures: next.signed.Signatures}
	for i := range numSections {
		if !bytes.Equal(base.payload[i], next.payload[i]) {
			d.changed[i] = next.payload[i]
		}
	}
	return d, nil
}

// BaseVersion is the version of the bundle the delta is told against.
func (d *Delta) BaseVersion() uint64 { return d.baseVersion }

// MarshalBinary encodes d: the base's version and signature, each changed
// section with its tag, then the signatures.
func (d *Delta) MarshalBinary() ([]byte, error) {
	out := []byte(deltaMagic)
	out = binary.AppendUvarint(out, d.baseVersion)
	out = appendBytes(out, d.baseSig)
	n := 0
	for _, s := range d.changed {
		if s != nil {
			n++
		}
	}
	out = binary.AppendUvarint(out, uint64(n))
	for i, s := range d.changed {
		if s != nil {
			out = append(out, byte(i+1))
			out = appendBytes(out, s)
		}
	}
	return appendSignatures(out, d.signatures), nil
}

// ParseDelta decodes what [Delta.MarshalBinary] writes. Like
// [ParseSigned] it is strict and errors match [ErrMalformed].
func ParseDelta(data []byte) (*Delta, error) {
	rest, ok := bytes.CutPrefix(data, []byte(deltaMagic))
	if !ok {
		return nil, fmt.Errorf("parse policy delta: %w: not a policy delta", ErrMalformed)
	}
	r := reader{data: rest}
	d := &Delta{baseVersion: r.uvarint()}
	d.baseSig = r.bytes(ed25519.SignatureSize)
	n := r.uvarint()
	if n > uint64(numSections) {
		r.fail("%d changed sections", n)
		n = 0
	}
	last := 0
	for range n {
		tag := int(r.byte())
		if r.err == nil && (tag <= last || tag > int(numSections)) {
			r.fail("section tag %d out of order or unknown", tag)
		}
		last = tag
		s := r.bytes(MaxSignedSize)
		if r.err == nil {
			d.changed[tag-1] = s
		}
	}
	d.signatures = r.signatures()
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("parse policy delta: %w", err)
	}
	if len(d.baseSig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("parse policy delta: %w: the base signature is %d bytes", ErrMalformed, len(d.baseSig))
	}
	if err := checkSignatures(d.signatures); err != nil {
		return nil, fmt.Errorf("parse policy delta: %w", err)
	}
	return d, nil
}

// Patch rebuilds the signed bundle d stands for, from p, which must be d's
// base: the same version, and signed with the signature d names. Otherwise
// it returns an error matching [ErrDeltaBase], and the sender should send
// the whole bundle instead. Nothing is verified here: verify the result
// as any signed bundle.
func (p *Policy) Patch(d *Delta) (*Signed, error) {
	if p == nil || p.signed == nil || p.Version() != d.baseVersion || !p.signedWith(d.baseSig) {
		have := uint64(0)
		if p != nil {
			have = p.Version()
		}
		return nil, fmt.Errorf("%w: the delta is told against v%d, this appliance holds v%d", ErrDeltaBase, d.baseVersion, have)
	}
	next := p.payload
	size := 0
	for i, s := range d.changed {
		if s != nil {
			next[i] = s
		}
		size += len(next[i])
	}
	if size > MaxSignedSize {
		return nil, fmt.Errorf("%w: the patched bundle would be %d bytes, the limit is %d", ErrMalformed, size, MaxSignedSize)
	}
	return &Signed{Payload: next.join(), Signatures: d.signatures}, nil
}

// Result reports whether p is the bundle d patches to, in force already:
// it carries d's signatures (an appliance that took the same delta on
// another of its tunnels). Nothing is verified: the caller only
// acknowledges what it holds.
func (p *Policy) Result(d *Delta) bool {
	if p == nil || p.signed == nil || len(d.signatures) == 0 {
		return false
	}
	for _, s := range d.signatures {
		if !p.signedWith(s.Sig) {
			return false
		}
	}
	return true
}

func (p *Policy) signedWith(sig []byte) bool {
	for _, s := range p.signed.Signatures {
		if bytes.Equal(s.Sig, sig) {
			return true
		}
	}
	return false
}

func appendBytes(out, b []byte) []byte {
	return append(binary.AppendUvarint(out, uint64(len(b))), b...)
}

func appendSignatures(out []byte, sigs []Signature) []byte {
	out = binary.AppendUvarint(out, uint64(len(sigs)))
	for _, sig := range sigs {
		out = appendBytes(out, []byte(sig.KeyID))
		out = appendBytes(out, sig.Sig)
	}
	return out
}

// reader decodes the binary forms; the first problem sticks, and every
// later read returns zero values.
type reader struct {
	data []byte
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.fail("truncated or overlong number")
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.data) == 0 {
		r.fail("truncated")
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

// bytes reads a length-prefixed field of at most limit bytes. The result
// shares the input's memory.
func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(r.data)) {
		r.fail("a field of %d bytes (limit %d, %d left)", n, limit, len(r.data))
		return nil
	}
	b := r.data[:n:n]
	r.data = r.data[n:]
	return b
}

func (r *reader) signatures() []Signature {
	n := r.uvarint()
	if r.err == nil && n > maxSignatures {
		r.fail("%d signatures, the limit is %d", n, maxSignatures)
	}
	if r.err != nil {
		return nil
	}
	sigs := make([]Signature, 0, n)
	for range n {
		id := r.bytes(maxKeyID)
		sig := r.bytes(ed25519.SignatureSize)
		if r.err != nil {
			return nil
		}
		sigs = append(sigs, Signature{KeyID: string(id), Sig: sig})
	}
	return sigs
}

func (r *reader) end() error {
	if r.err == nil && len(r.data) != 0 {
		r.fail("%d bytes after the end", len(r.data))
	}
	return r.err
}
