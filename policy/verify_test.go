package policy

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	pub1, k1 := newKey(t, 1)
	pub2, k2 := newKey(t, 2)
	pub3, k3 := newKey(t, 3)
	sign := func(keys ...ed25519.PrivateKey) *Signed {
		s, err := Sign(labBundle(), keys...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tampered := sign(k1)
	tampered.Payload[len(tampered.Payload)-2] ^= 1
	badSig := sign(k1, k3)
	badSig.Signatures[0].Sig[0] ^= 1
	duplicated := sign(k1)
	duplicated.Signatures = append(duplicated.Signatures, duplicated.Signatures[0])
	expired := labBundle()
	expired.Expires = testNow
	expiredSigned, err := Sign(expired, k1)
	if err != nil {
		t.Fatal(err)
	}
	unknownAndBad := sign(k3, k1)
	unknownAndBad.Signatures[1].Sig[5] ^= 1

	tests := []struct {
		name  string
		s     *Signed
		trust Trust
		now   time.Time
		want  error // nil for success
		msg   string
	}{
		{"one key", sign(k1), Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, nil, ""},
		{"threshold 0 is 1", sign(k2), Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 0}, testNow, nil, ""},
		{"negative threshold is 1", sign(k2), Trust{Keys: []ed25519.PublicKey{pub2}, Threshold: -3}, testNow, nil, ""},
		{"extra untrusted signature is ignored", sign(k3, k1), Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, nil, ""},
		{"tampered payload", tampered, Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, ErrBadSignature, "does not match the payload"},
		{"tampered signature", badSig, Trust{Keys: []ed25519.PublicKey{pub1, pub3}}, testNow, ErrBadSignature, KeyID(pub1)},
		{"bad trusted signature beats unknown ones", unknownAndBad, Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, ErrBadSignature, ""},
		{"unknown signer", sign(k3), Trust{Keys: []ed25519.PublicKey{pub1, pub2}}, testNow, ErrUnknownSigner, KeyID(pub3)},
		{"no trusted keys", sign(k1), Trust{}, testNow, ErrUnknownSigner, ""},
		{"threshold 2, one signature", sign(k1), Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow, ErrThreshold, "1 distinct trusted signatures, 2 required"},
		{"threshold 2, two keys", sign(k1, k2), Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow, nil, ""},
		{"threshold 2, one trusted and one unknown", sign(k1, k3), Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow, ErrThreshold, ""},
		{"threshold 2, same key twice", duplicated, Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow, ErrThreshold, "1 distinct"},
		{"threshold 2, trusted key listed twice", sign(k1), Trust{Keys: []ed25519.PublicKey{pub1, pub1}, Threshold: 2}, testNow, ErrThreshold, ""},
		{"no signatures", &Signed{Payload: sign(k1).Payload}, Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, ErrThreshold, "0 distinct"},
		{"expired", expiredSigned, Trust{Keys: []ed25519.PublicKey{pub1}}, testNow, ErrExpired, "bundle v3 expired at 2026-06-01T00:00:00Z"},
		{"expired later on", sign(k1), Trust{Keys: []ed25519.PublicKey{pub1}}, labBundle().Expires.Add(time.Hour), ErrExpired, "expired at 2027-01-31T00:00:00Z"},
		{"bad trusted key", sign(k1), Trust{Keys: []ed25519.PublicKey{pub1[:5]}}, testNow, ErrBadKey, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.s.Verify(tt.trust, tt.now)
			if tt.want == nil {
				if err != nil || b == nil {
					t.Fatalf("Verify = %v, %v; want a bundle", b, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || b != nil {
				t.Fatalf("Verify = %v, %v; want an error matching %v", b, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Verify error %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

// A payload signed by trusted keys is still decoded strictly and validated:
// a signing tool bug must not put a broken bundle into service.
func TestVerifyPayload(t *testing.T) {
	pub, priv := newKey(t, 1)
	trust := Trust{Keys: []ed25519.PublicKey{pub}}
	tests := []struct {
		name    string
		payload string
		want    error
	}{
		{"not a payload", "nope", ErrMalformed},
		{"a bundle in JSON", `{"version":3}`, ErrMalformed},
		{"unknown field", string(rawPayload(`{"version":3,"colour":"blue"}`)), ErrMalformed},
		{"trailing data", string(rawPayload(`{"version":3} {}`)), ErrMalformed},
		{"bad identifier", string(rawPayload(`{"version":3}`, `[{"id":"ma/x/y"}]`)), ErrMalformed},
		{"invalid bundle", string(rawPayload(`{"version":0,"issued":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z"}`)), ErrInvalid},
		{"section missing", strings.TrimSuffix(string(rawPayload()), "\x07\x04null"), ErrMalformed},
		{"sections out of order", strings.Replace(string(rawPayload()), "\x02\x04null\x03\x04null", "\x03\x04null\x02\x04null", 1), ErrMalformed},
		{"bytes after the last section", string(rawPayload()) + "\x08\x00", ErrMalformed},
		{"section longer than the payload", strings.TrimSuffix(string(rawPayload()), "\x07\x04null") + "\x07\x05null", ErrMalformed},
	}
	for _, tt := range tests {
		s := &Signed{Payload: []byte(tt.payload)}
		if err := s.sign(priv); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(trust, testNow); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// The verified bundle is the one that was signed, through the wire form.
func TestVerifyAfterWire(t *testing.T) {
	pub1, k1 := newKey(t, 1)
	pub2, k2 := newKey(t, 2)
	s, err := Sign(labBundle(), k1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSignature(k2); err != nil {
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
	b, err := got.Verify(Trust{Keys: []ed25519.PublicKey{pub1, pub2}, Threshold: 2}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := labBundle()
	if b.Version != want.Version || !b.Issued.Equal(want.Issued) || !b.Expires.Equal(want.Expires) ||
		len(b.Routes) != len(want.Routes) || b.Routes[0].Appliances[1] != dgsnRabat02 {
		t.Errorf("verified bundle %+v differs from the signed one", b)
	}
}
