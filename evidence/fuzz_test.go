package evidence

import (
	"bytes"
	"errors"
	"testing"
)

// The exchange reads entries, key certificates and batch heads from
// appliances, and bab trace verify-receipt from receipts that come from
// anywhere: each reader accepts only the one encoding of what it returns.

func FuzzEntry(f *testing.F) {
	f.Add(sampleEntry().AppendBinary(nil))
	e := sampleEntry()
	e.ResponseHead, e.ResponseBody, e.Side = Digest{}, Digest{}, Provider
	f.Add(e.AppendBinary(nil))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Entry
		if err := e.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(e.AppendBinary(nil), b) {
			t.Fatalf("accepted an entry that does not encode back to its bytes")
		}
	})
}

func FuzzKeyCert(f *testing.F) {
	s, _ := NewSigner("MA/MUN/RABAT:hq", applianceKey(f))
	sealed, _ := s.Seal([][]byte{sampleEntry().AppendBinary(nil)}, 0, t0)
	f.Add(sealed.Cert)
	f.Add(sealed.Head)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c KeyCert
		if err := c.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if again, _ := c.MarshalBinary(); !bytes.Equal(again, b) {
			t.Fatalf("accepted a certificate that does not encode back to its bytes")
		}
		_ = c.Verify() // must not panic on anything decoded
	})
}

func FuzzBatch(f *testing.F) {
	s, _ := NewSigner("MA/MUN/RABAT:hq", applianceKey(f))
	sealed, _ := s.Seal([][]byte{sampleEntry().AppendBinary(nil)}, 2, t0)
	var c KeyCert
	_ = c.UnmarshalBinary(sealed.Cert)
	f.Add(sealed.Head)
	f.Add(sealed.Cert)
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Batch
		if err := h.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if again, _ := h.MarshalBinary(); !bytes.Equal(again, b) {
			t.Fatalf("accepted a batch that does not encode back to its bytes")
		}
		if h.Verify(&c) == nil && !bytes.Equal(b, sealed.Head) {
			t.Fatalf("another batch verifies with the certificate")
		}
	})
}
