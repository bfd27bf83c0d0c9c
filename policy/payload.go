package policy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// The payload ops sign is a bundle cut into sections, each the JSON of one
// part of the bundle, in a fixed order and each with its length:
//
//	payloadMagic
//	then for each section, in order: tag (1 byte), length (uvarint), JSON
//
// Sections let an appliance skip what did not change: a fleet's bundle is
// mostly its list of appliances, which stays the same from one version to
// the next, and decoding, checking and compiling it again on every push was
// most of what a push cost each appliance. Sections also let the exchange
// send only the changed ones (see [Delta]). The signature covers the whole
// payload, so nothing of this weakens it.
const payloadMagic = "\x00bab-policy/2\n"

// section names one part of a bundle's payload; its tag is section+1.
type section int

const (
	secHead section = iota // version, issue and expiry times, trust rotation, expiry behaviour
	secMembers
	secAppliances
	secServices
	secRules
	secRoutes
	secConsoleRoles
	numSections
)

var sectionNames = [numSections]string{"head", "members", "appliances", "services", "rules", "routes", "console_roles"}

func (s section) String() string { return sectionNames[s] }

// sectionSet is a set of sections, one bit each.
type sectionSet uint16

func (s sectionSet) has(secs ...section) bool {
	for _, x := range secs {
		if s&(1<<x) == 0 {
			return false
		}
	}
	return true
}

// head is the bundle's scalar fields, which change with every version.
type head struct {
	Version               uint64     `json:"version"`
	Issued                time.Time  `json:"issued"`
	Expires               time.Time  `json:"expires"`
	AttestIntervalSeconds int64      `json:"attest_interval_s,omitempty"`
	NextTrust             *TrustSpec `json:"next_trust,omitempty"`
	OnExpiry              string     `json:"on_expiry,omitempty"`
}

// payload is a payload cut into its sections (sub-slices of it).
type payload [numSections][]byte

// encodePayload writes b as a signed payload.
func encodePayload(b *Bundle) ([]byte, error) {
	parts := [numSections]any{
		head{Version: b.Version, Issued: b.Issued, Expires: b.Expires, AttestIntervalSeconds: b.AttestIntervalSeconds,
			NextTrust: b.NextTrust, OnExpiry: b.OnExpiry},
		b.Members, b.Appliances, b.Services, b.Rules, b.Routes, b.ConsoleRoles,
	}
	var p payload
	for i, v := range parts {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode bundle %s: %w", section(i), err)
		}
		p[i] = data
	}
	return p.join(), nil
}

// join writes the sections back into one payload.
func (p *payload) join() []byte {
	n := len(payloadMagic)
	for _, s := range p {
		n += 1 + binary.MaxVarintLen64 + len(s)
	}
	out := make([]byte, 0, n)
	out = append(out, payloadMagic...)
	for i, s := range p {
		out = append(out, byte(i+1))
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

// splitPayload cuts a payload into its sections. It is strict: every
// section once, in order, and nothing after the last.
func splitPayload(data []byte) (payload, error) {
	var p payload
	rest, ok := bytes.CutPrefix(data, []byte(payloadMagic))
	if !ok {
		return p, fmt.Errorf("%w: the payload is not a bundle in the bab-policy/2 form (sign it again with this version of bab-exchange policy sign)", ErrMalformed)
	}
	for i := range numSections {
		if len(rest) == 0 || rest[0] != byte(i+1) {
			return p, fmt.Errorf("%w: payload section %d (%s) is missing or out of order", ErrMalformed, i+1, i)
		}
		n, k := binary.Uvarint(rest[1:])
		if k <= 0 || n > uint64(len(rest)-1-k) {
			return p, fmt.Errorf("%w: payload section %s has a bad length", ErrMalformed, i)
		}
		start, end := 1+k, 1+k+int(n)
		p[i] = rest[start:end:end]
		rest = rest[end:]
	}
	if len(rest) != 0 {
		return p, fmt.Errorf("%w: %d bytes after the last payload section", ErrMalformed, len(rest))
	}
	return p, nil
}

// decode decodes the sections into a bundle. A section whose bytes are
// those of prev's (the policy in force, which passed every check) is not
// decoded again: its part of prev's bundle is shared, since a compiled
// policy's bundle is never modified. same says which sections were.
func (p *payload) decode(prev *Policy) (b *Bundle, same sectionSet, err error) {
	b = &Bundle{}
	var h head
	into := [numSections]any{&h, &b.Members, &b.Appliances, &b.Services, &b.Rules, &b.Routes, &b.ConsoleRoles}
	for i, data := range p {
		s := section(i)
		// The head changes with every version and is small: always decoded.
		if s != secHead && prev != nil && prev.signed != nil && bytes.Equal(data, prev.payload[s]) {
			b.share(prev.bundle, s)
			same |= 1 << s
			continue
		}
		if err := decodeStrict(data, into[i]); err != nil {
			return nil, 0, fmt.Errorf("decode bundle %s: %w", s, err)
		}
	}
	b.Version, b.Issued, b.Expires = h.Version, h.Issued, h.Expires
	b.AttestIntervalSeconds, b.NextTrust, b.OnExpiry = h.AttestIntervalSeconds, h.NextTrust, h.OnExpiry
	return b, same, nil
}

// share makes b's section s that of from.
func (b *Bundle) share(from *Bundle, s section) {
	switch s {
	case secMembers:
		b.Members = from.Members
	case secAppliances:
		b.Appliances = from.Appliances
	case secServices:
		b.Services = from.Services
	case secRules:
		b.Rules = from.Rules
	case secRoutes:
		b.Routes = from.Routes
	case secConsoleRoles:
		b.ConsoleRoles = from.ConsoleRoles
	}
}

func decodeBundle(data []byte) (*Bundle, error) {
	p, err := splitPayload(data)
	if err != nil {
		return nil, fmt.Errorf("decode bundle: %w", err)
	}
	b, _, err := p.decode(nil)
	return b, err
}
