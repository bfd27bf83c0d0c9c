package wire_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// TestRouteHeadSubject: the subject travels last and only when set, so a
// head without one is the bytes it was before subjects; it is covered by
// AuthBytes, so the exchange cannot add, change or drop it unnoticed.
func TestRouteHeadSubject(t *testing.T) {
	h := wire.RouteHead{ID: "0123456789abcdef", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Provider: "MA/GOV/ETATCIVIL:dc1",
		Session: [wire.SessionIDLen]byte{1}, Seq: 7, ContentLength: 0, ConsumerSystem: "desk", Timeout: time.Second, ConsumerAppliance: "MA/MUN/RABAT:hq"}
	plain, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	with := h
	with.Subject = "MA-CIN:AB123456"
	b, err := with.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, plain) || !bytes.HasSuffix(b, []byte("\x0fMA-CIN:AB123456")) || len(b) != len(plain)+16 {
		t.Errorf("head with a subject: %x, want the head without one (%x) and the subject", b, plain)
	}
	var got wire.RouteHead
	if err := got.UnmarshalBinary(b); err != nil || got != with {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if err := got.UnmarshalBinary(plain); err != nil || got != h {
		t.Fatalf("round trip without subject: %+v, %v", got, err)
	}
	if bytes.Equal(h.AuthBytes(), with.AuthBytes()) {
		t.Error("AuthBytes does not cover the subject")
	}
	other := with
	other.Subject = "MA-CIN:AB123457"
	if bytes.Equal(other.AuthBytes(), with.AuthBytes()) {
		t.Error("AuthBytes does not tell two subjects apart")
	}
	if err := got.UnmarshalBinary(append(append([]byte(nil), plain...), 0)); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("a head with an empty subject: %v, want ErrMalformed", err)
	}
}

// TestAppendForwarded: the exchange passes a route head on as the bytes
// that came with only its own fields encoded again; the result is the
// frame of the head it checked with those fields set, subject or not.
func TestAppendForwarded(t *testing.T) {
	for _, subject := range []string{"", "MA-CIN:AB123456"} {
		h := wire.RouteHead{ID: "0123456789abcdef", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Provider: "MA/GOV/ETATCIVIL:dc1",
			Session: [wire.SessionIDLen]byte{1}, Seq: 7, ContentLength: -1, ConsumerSystem: "desk", Purpose: "check",
			Timeout: time.Minute, ConsumerAppliance: "forged by the consumer", Subject: subject}
		raw, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		frame, err := wire.AppendForwarded([]byte("x"), raw, 1500*time.Millisecond, "MA/MUN/RABAT:hq")
		if err != nil {
			t.Fatal(err)
		}
		want := h
		want.Timeout, want.ConsumerAppliance = 1500*time.Millisecond, "MA/MUN/RABAT:hq"
		var wantFrame bytes.Buffer
		if err := wire.WriteBinary(&wantFrame, wire.FrameRoute, &want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(frame, append([]byte("x"), wantFrame.Bytes()...)) {
			t.Errorf("subject %q: forwarded %x, want %x", subject, frame, wantFrame.Bytes())
		}
	}
	if _, err := wire.AppendForwarded(nil, []byte{1, 5, 'a'}, time.Second, "x"); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("a truncated head: %v, want ErrMalformed", err)
	}
}
