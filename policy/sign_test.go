package policy

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestKeyID(t *testing.T) {
	pub, _ := newKey(t, 1)
	id := KeyID(pub)
	if !strings.HasPrefix(id, "ed25519:") || len(id) != len("ed25519:")+16 {
		t.Errorf("KeyID = %q, want ed25519: and 16 hex digits", id)
	}
	other, _ := newKey(t, 2)
	if KeyID(other) == id {
		t.Error("two keys share a KeyID")
	}
	// Pinned so that a change of the ID scheme, which would orphan every
	// deployed trust configuration, cannot pass unnoticed.
	if want := "ed25519:34750f98bd59fcfc"; id != want {
		t.Errorf("KeyID = %q, want %q", id, want)
	}
}

func TestSignVerify(t *testing.T) {
	pub, priv := newKey(t, 1)
	s, err := Sign(labBundle(), priv)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Signatures) != 1 || s.Signatures[0].KeyID != KeyID(pub) {
		t.Fatalf("signatures = %+v", s.Signatures)
	}
	if !ed25519.Verify(pub, append([]byte("bab-policy-v2\x00"), s.Payload...), s.Signatures[0].Sig) {
		t.Error("signature is not over the domain-separated payload")
	}
	if ed25519.Verify(pub, s.Payload, s.Signatures[0].Sig) {
		t.Error("signature verifies over the bare payload; domain separation is missing")
	}
	b, err := s.Verify(Trust{Keys: []ed25519.PublicKey{pub}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 3 || len(b.Rules) != 4 || b.Rules[0].Consumer != rabat {
		t.Errorf("verified bundle = %+v", b)
	}
}

func TestSignRefuses(t *testing.T) {
	_, priv := newKey(t, 1)
	bad := labBundle()
	bad.Version = 0
	if _, err := Sign(bad, priv); !errors.Is(err, ErrInvalid) {
		t.Errorf("Sign(invalid bundle) = %v, want ErrInvalid", err)
	}
	if _, err := Sign(labBundle()); !errors.Is(err, ErrBadKey) {
		t.Errorf("Sign without keys = %v, want ErrBadKey", err)
	}
	if _, err := Sign(labBundle(), priv[:10]); !errors.Is(err, ErrBadKey) {
		t.Errorf("Sign with a short key = %v, want ErrBadKey", err)
	}
}

func TestSignSameKeyTwice(t *testing.T) {
	_, priv := newKey(t, 1)
	s, err := Sign(labBundle(), priv, priv)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Signatures) != 1 {
		t.Errorf("signing twice with one key gave %d signatures, want 1", len(s.Signatures))
	}
	if err := s.AddSignature(priv); err != nil || len(s.Signatures) != 1 {
		t.Errorf("AddSignature with the same key: %v, %d signatures; want nil, 1", err, len(s.Signatures))
	}
}

func TestAddSignatureChecksPayload(t *testing.T) {
	_, priv := newKey(t, 1)
	s := &Signed{Payload: rawPayload(`{"version":1,"surprise":true}`)}
	if err := s.AddSignature(priv); !errors.Is(err, ErrMalformed) {
		t.Errorf("AddSignature over an unknown field = %v, want ErrMalformed", err)
	}
	s = &Signed{Payload: rawPayload(`{"version":0}`)}
	if err := s.AddSignature(priv); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddSignature over an invalid bundle = %v, want ErrInvalid", err)
	}
	if len(s.Signatures) != 0 {
		t.Error("a refused AddSignature still signed")
	}
}

func TestMarshalParseSigned(t *testing.T) {
	_, k1 := newKey(t, 1)
	_, k2 := newKey(t, 2)
	s, err := Sign(labBundle(), k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSigned(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, s.Payload) || len(got.Signatures) != 2 ||
		got.Signatures[1].KeyID != s.Signatures[1].KeyID || !bytes.Equal(got.Signatures[1].Sig, s.Signatures[1].Sig) {
		t.Errorf("round trip changed the signed bundle:\n%+v\n%+v", got, s)
	}
}

func TestParseSignedMalformed(t *testing.T) {
	_, priv := newKey(t, 1)
	s, err := Sign(labBundle(), priv)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(s)
	sig := s.Signatures[0]
	enc := func(v any) string { d, _ := json.Marshal(v); return string(d) }
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not JSON", "policy"},
		{"array", "[]"},
		{"unknown field", strings.Replace(string(good), `"payload"`, `"extra":1,"payload"`, 1)},
		{"trailing data", string(good) + "{}"},
		{"no payload", `{"signatures":` + enc(s.Signatures) + `}`},
		{"no signatures", `{"payload":` + enc(s.Payload) + `,"signatures":[]}`},
		{"short signature", `{"payload":` + enc(s.Payload) + `,"signatures":[{"key_id":"` + sig.KeyID + `","sig":"AAAA"}]}`},
		{"no key id", `{"payload":` + enc(s.Payload) + `,"signatures":[{"key_id":"","sig":` + enc(sig.Sig) + `}]}`},
		{"unknown signature field", `{"payload":` + enc(s.Payload) + `,"signatures":[{"key_id":"x","sig":` + enc(sig.Sig) + `,"alg":"none"}]}`},
		{"payload not base64", `{"payload":"!!","signatures":[]}`},
	}
	for _, tt := range tests {
		if _, err := ParseSigned([]byte(tt.in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseSigned = %v, want ErrMalformed", tt.name, err)
		}
	}
	big := make([]byte, MaxSignedSize+1)
	if _, err := ParseSigned(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized: ParseSigned = %v, want ErrMalformed", err)
	}
}

func TestCheckNewer(t *testing.T) {
	tests := []struct {
		applied, version uint64
		ok               bool
	}{
		{0, 1, true},
		{2, 3, true},
		{3, 3, false},
		{4, 3, false},
		{0, 0, false},
	}
	for _, tt := range tests {
		err := CheckNewer(tt.applied, tt.version)
		if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, ErrNotNewer)) {
			t.Errorf("CheckNewer(%d, v%d) = %v, want ok=%v", tt.applied, tt.version, err, tt.ok)
		}
	}
}
