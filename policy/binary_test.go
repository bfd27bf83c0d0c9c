package policy

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"testing"
)

// The binary form carries exactly what the JSON form does, and verifies.
func TestSignedBinaryRoundTrip(t *testing.T) {
	pub1, k1 := newKey(t, 1)
	pub2, k2 := newKey(t, 2)
	s, err := Sign(labBundle(), k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) >= len(text) {
		t.Errorf("binary form %d bytes, JSON %d: it should be the smaller", len(raw), len(text))
	}
	got, err := ParseSigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, s.Payload) || len(got.Signatures) != 2 || got.Signatures[1].KeyID != KeyID(pub2) ||
		!bytes.Equal(got.Signatures[1].Sig, s.Signatures[1].Sig) {
		t.Fatalf("round trip changed the bundle: %+v", got.Signatures)
	}
	if _, err := got.Verify(Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow); err != nil {
		t.Fatal(err)
	}
}

func TestParseSignedBinaryMalformed(t *testing.T) {
	_, priv := newKey(t, 1)
	s, err := Sign(labBundle(), priv)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := s.MarshalBinary()
	build := func(payload []byte, sigs ...Signature) []byte {
		raw, _ := (&Signed{Payload: payload, Signatures: sigs}).MarshalBinary()
		return raw
	}
	sig := s.Signatures[0]
	tests := []struct {
		name string
		in   []byte
	}{
		{"magic only", []byte(signedMagic)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"no payload", build(nil, sig)},
		{"no signatures", build(s.Payload)},
		{"short signature", build(s.Payload, Signature{KeyID: sig.KeyID, Sig: sig.Sig[:10]})},
		{"long signature", build(s.Payload, Signature{KeyID: sig.KeyID, Sig: append(bytes.Clone(sig.Sig), 0)})},
		{"no key id", build(s.Payload, Signature{Sig: sig.Sig})},
		{"too many signatures", binary.AppendUvarint(appendBytes([]byte(signedMagic), s.Payload), maxSignatures+1)},
		{"length beyond the data", binary.AppendUvarint([]byte(signedMagic), 1<<40)},
	}
	for _, tt := range tests {
		if _, err := ParseSigned(tt.in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseSigned = %v, want ErrMalformed", tt.name, err)
		}
	}
}

// deltaFixture signs v3 and a v4 that changes one rule, both verified.
func deltaFixture(t testing.TB) (trust Trust, priv ed25519.PrivateKey, p3, p4 *Policy) {
	t.Helper()
	pub, priv := newKey(t, 1)
	trust = Trust{Keys: []ed25519.PublicKey{pub}}
	verified := func(b *Bundle, prev *Policy) *Policy {
		s, err := Sign(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.VerifyOver(trust, testNow, prev)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p3 = verified(labBundle(), nil)
	b := labBundle()
	b.Version = 4
	b.Rules[0].Methods = []string{"GET"}
	p4 = verified(b, p3)
	return trust, priv, p3, p4
}

// A delta carries only what changed and rebuilds the very bytes that
// were signed.
func TestDelta(t *testing.T) {
	trust, _, p3, p4 := deltaFixture(t)
	d, err := NewDelta(p3, p4)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) >= len(p4.signed.Payload) || bytes.Contains(raw, p4.payload[secAppliances]) {
		t.Errorf("delta of one rule is %d bytes, the whole payload %d: it carries unchanged sections", len(raw), len(p4.signed.Payload))
	}
	got, err := ParseDelta(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.BaseVersion() != 3 {
		t.Errorf("BaseVersion = %d, want 3", got.BaseVersion())
	}
	for i, s := range got.changed {
		if want := !bytes.Equal(p3.payload[i], p4.payload[i]); (s != nil) != want {
			t.Errorf("section %s in the delta: %v, want %v", section(i), s != nil, want)
		}
	}
	s, err := p3.Patch(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Payload, p4.signed.Payload) {
		t.Fatal("the patched payload is not the signed one")
	}
	p, err := s.VerifyOver(trust, testNow, p3)
	if err != nil {
		t.Fatal(err)
	}
	if !p.SamePayload(p4.signed) || p.Version() != 4 {
		t.Errorf("patched bundle is v%d", p.Version())
	}
	// The same delta arriving on another lane finds its result in force;
	// the base is not its result.
	if !p.Result(got) || !p4.Result(got) || p3.Result(got) {
		t.Errorf("Result: patched %v, v4 %v, v3 %v; want true, true, false", p.Result(got), p4.Result(got), p3.Result(got))
	}
}

// A delta told against another bundle is refused as such, so that the
// exchange sends the whole bundle; a tampered one fails verification.
func TestDeltaRefused(t *testing.T) {
	trust, priv, p3, p4 := deltaFixture(t)
	d, err := NewDelta(p3, p4)
	if err != nil {
		t.Fatal(err)
	}
	for name, base := range map[string]*Policy{
		"no policy":                  nil,
		"a policy without a payload": Compile(labBundle()),
		"the newer policy":           p4,
	} {
		if _, err := base.Patch(d); !errors.Is(err, ErrDeltaBase) {
			t.Errorf("Patch onto %s = %v, want ErrDeltaBase", name, err)
		}
	}
	// Same version, other bytes (signed by another key): not the base.
	other, err := Sign(labBundle(), priv)
	if err != nil {
		t.Fatal(err)
	}
	other.Signatures[0].Sig = ed25519.Sign(priv, append([]byte("other"), other.Payload...))
	if _, err := (&Policy{bundle: p3.bundle, signed: other, payload: p3.payload}).Patch(d); !errors.Is(err, ErrDeltaBase) {
		t.Errorf("Patch onto another v3 = %v, want ErrDeltaBase", err)
	}

	raw, _ := d.MarshalBinary()
	i := bytes.Index(raw, []byte(`"GET"`))
	if i < 0 {
		t.Fatal("the changed rule is not in the delta")
	}
	tampered := bytes.Clone(raw)
	copy(tampered[i:], `"PUT"`)
	td, err := ParseDelta(tampered)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p3.Patch(td)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyOver(trust, testNow, p3); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered delta: VerifyOver = %v, want ErrBadSignature", err)
	}
}

func TestParseDeltaMalformed(t *testing.T) {
	_, _, p3, p4 := deltaFixture(t)
	d, _ := NewDelta(p3, p4)
	good, _ := d.MarshalBinary()
	head := func() []byte {
		out := binary.AppendUvarint([]byte(deltaMagic), 3)
		return appendBytes(out, d.baseSig)
	}
	sigs := appendSignatures(nil, d.signatures)
	section := func(out []byte, tag byte, data string) []byte {
		return appendBytes(append(out, tag), []byte(data))
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"a signed bundle", append([]byte(signedMagic), 0)},
		{"truncated", good[:len(good)-3]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"short base signature", append(appendBytes(binary.AppendUvarint([]byte(deltaMagic), 3), d.baseSig[:8]), append([]byte{0}, sigs...)...)},
		{"too many sections", append(binary.AppendUvarint(head(), 8), sigs...)},
		{"a huge section count", append(binary.AppendUvarint(head(), 1<<62), sigs...)},
		{"unknown section", append(section(binary.AppendUvarint(head(), 1), 8, "null"), sigs...)},
		{"section tag zero", append(section(binary.AppendUvarint(head(), 1), 0, "null"), sigs...)},
		{"sections out of order", append(section(section(binary.AppendUvarint(head(), 2), 5, "null"), 2, "null"), sigs...)},
		{"a section twice", append(section(section(binary.AppendUvarint(head(), 2), 5, "null"), 5, "null"), sigs...)},
		{"no signatures", binary.AppendUvarint(binary.AppendUvarint(head(), 0), 0)},
	}
	for _, tt := range tests {
		if _, err := ParseDelta(tt.in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseDelta = %v, want ErrMalformed", tt.name, err)
		}
	}
}

func FuzzParseDelta(f *testing.F) {
	trust, _, p3, p4 := deltaFixture(f)
	d, err := NewDelta(p3, p4)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := d.MarshalBinary()
	f.Add(good)
	f.Add([]byte(deltaMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDelta(data)
		if err != nil {
			return
		}
		out, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseDelta(out)
		if err != nil || !bytes.Equal(out, mustMarshal(t, again)) {
			t.Fatalf("round trip: %v", err)
		}
		// Patching and verifying fuzzed deltas must refuse, never panic.
		if s, err := p3.Patch(d); err == nil {
			_, _ = s.VerifyOver(trust, testNow, p3)
		}
	})
}

func mustMarshal(t *testing.T, d *Delta) []byte {
	t.Helper()
	out, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
