package wire_test

import (
	"errors"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// The end-to-end protocol's clear parts, fuzzed as the heads are: never a
// panic, only ErrMalformed, and a fixed point after one round.

func FuzzRouteHead(f *testing.F) {
	h := wire.RouteHead{ID: "0123456789abcdef", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Provider: "MA/GOV/ETATCIVIL:dc1",
		Session: [wire.SessionIDLen]byte{1, 2, 3}, Seq: 42, ContentLength: -1, ConsumerSystem: "complaint-desk", Purpose: "marriage-file",
		Timeout: 30 * time.Second, ConsumerAppliance: "MA/MUN/RABAT:hq"}
	b, _ := h.MarshalBinary()
	f.Add(b)
	h.Subject = "MA-CIN:AB123456"
	b, _ = h.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var h wire.RouteHead
		if err := h.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("UnmarshalBinary error %v does not match ErrMalformed", err)
			}
			return
		}
		checkFixedPoint(t, &h, new(wire.RouteHead), len(data))
	})
}

func FuzzSealHello(f *testing.F) {
	m := wire.SealHello{Consumer: "MA/MUN/RABAT:hq", Key: make([]byte, 91), Share: make([]byte, 32), Time: time.UnixMilli(1_790_000_000_000).UTC(), Sig: make([]byte, 72)}
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m wire.SealHello
		if err := m.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("UnmarshalBinary error %v does not match ErrMalformed", err)
			}
			return
		}
		checkFixedPoint(t, &m, new(wire.SealHello), len(data))
	})
}

func FuzzSealReply(f *testing.F) {
	m := wire.SealReply{Provider: "MA/GOV/ETATCIVIL:dc1", Key: make([]byte, 91), Share: make([]byte, 32), Hello: [32]byte{9},
		Time: time.UnixMilli(1_790_000_000_000).UTC(), Life: time.Hour, Sig: make([]byte, 72)}
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m wire.SealReply
		if err := m.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("UnmarshalBinary error %v does not match ErrMalformed", err)
			}
			return
		}
		checkFixedPoint(t, &m, new(wire.SealReply), len(data))
	})
}
