package tracelog

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sample is a record as the exchange writes one today.
func sample() Record {
	return Record{At: time.Date(2026, 11, 30, 10, 15, 2, 123456789, time.UTC), ID: "9f86d081884c7d65",
		Consumer: "MA/MUN/RABAT:hq", ConsumerSystem: "complaint-desk", Provider: "MA/GOV/ETATCIVIL:dc1",
		Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Purpose: "birth-certificate", Outcome: "ok",
		Status: 200, RequestBytes: 0, ResponseBytes: 517, Duration: 3200 * time.Microsecond}
}

func full() Record {
	r := sample()
	for i, d := range r.digests() {
		if d != nil {
			d[0], d[31] = byte(i), 0xff
		}
	}
	r.SubjectKey, r.ConfidentialUntil = 3, time.Date(2027, 5, 29, 10, 15, 2, 0, time.UTC)
	r.Unknown = []Field{{Tag: 10, Value: []byte("x")}, {Tag: 300, Value: []byte{0, 1}}}
	return r
}

// TestRecordRoundTrip encodes records and decodes them back: every field
// comes back, and the encoding is the same again.
func TestRecordRoundTrip(t *testing.T) {
	refused := sample()
	refused.Provider, refused.Status, refused.Outcome, refused.ResponseBytes, refused.Purpose = "", 0, "not_allowed", 0, ""
	odd := sample()
	odd.ID, odd.ConsumerSystem, odd.Method = "", "clerk \"a\"\n\x00é", strings.Repeat("M", 1000)
	odd.At, odd.Status, odd.RequestBytes, odd.Duration = time.Unix(0, -5).UTC(), -1, -7, -time.Second
	for name, r := range map[string]Record{"carried": sample(), "refused": refused, "odd strings and numbers": odd, "every field": full()} {
		t.Run(name, func(t *testing.T) {
			b, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Record
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
			}
			b2, _ := got.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Errorf("encoding not stable: %x then %x", b, b2)
			}
		})
	}
}

// TestRecordSize: a record of a carried request is small, which is what
// lets the log keep up (docs/performance.md).
func TestRecordSize(t *testing.T) {
	r := sample()
	b, _ := r.MarshalBinary()
	if len(b) > 160 {
		t.Errorf("a typical record takes %d bytes, want at most 160", len(b))
	}
}

// TestRecordRefusesNonCanonical: the decoder takes one encoding per
// record and nothing else.
func TestRecordRefusesNonCanonical(t *testing.T) {
	r := full()
	good, _ := r.MarshalBinary()
	idString := bytes.Index(good, []byte("9f86"))
	tests := map[string][]byte{
		"empty":            {},
		"version 2":        append([]byte{2}, good[1:]...),
		"trailing byte":    append(append([]byte(nil), good...), 0),
		"truncated":        good[:len(good)-1],
		"overlong varint":  append([]byte{1, 0x80, 0x00}, good[2:]...), // the time's first byte is 0x80|…; this is an overlong 0
		"string too long":  append(append(append([]byte(nil), good[:idString-1]...), 0x7f), good[idString:]...),
		"field repeated":   append(append([]byte(nil), good...), 9, 1, 'y'),
		"subject key 0":    append(r.sampleBase(t), TagSubjectKey, 4, 0, 0, 0, 0),
		"subject key 2 b":  append(r.sampleBase(t), TagSubjectKey, 2, 0, 1),
		"until 0":          append(r.sampleBase(t), TagConfidentialUntil, 8, 0, 0, 0, 0, 0, 0, 0, 0),
		"until negative":   append(r.sampleBase(t), TagConfidentialUntil, 8, 0xff, 0, 0, 0, 0, 0, 0, 0),
		"until 4 bytes":    append(r.sampleBase(t), TagConfidentialUntil, 4, 0, 0, 0, 1),
		"field empty":      append(append([]byte(nil), good...), 0xff, 0x01, 0x00),
		"short digest":     append(r.sampleBase(t), TagSubjectHash, 1, 'x'),
		"zero digest":      append(append(r.sampleBase(t), TagSubjectHash, 32), make([]byte, 32)...),
		"field 0":          append(r.sampleBase(t), 0, 1, 'x'),
		"too large":        make([]byte, MaxRecord+1),
		"number too large": append(r.sampleBase(t)[:0:0], 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	}
	for name, b := range tests {
		var got Record
		err := got.UnmarshalBinary(b)
		if err == nil || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrVersion)) {
			t.Errorf("%s: UnmarshalBinary(%x) = %v, want ErrMalformed or ErrVersion", name, b, err)
		}
	}
}

// sampleBase is the encoding of sample(), which has no optional field.
func (Record) sampleBase(t *testing.T) []byte {
	r := sample()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordRefusesBadUnknown(t *testing.T) {
	for _, u := range [][]Field{{{Tag: 3, Value: []byte("x")}}, {{Tag: 9, Value: []byte("x")}}, {{Tag: 10, Value: nil}}, {{Tag: 10, Value: []byte("a")}, {Tag: 10, Value: []byte("b")}}} {
		r := sample()
		r.Unknown = u
		if _, err := r.MarshalBinary(); !errors.Is(err, ErrMalformed) {
			t.Errorf("MarshalBinary with unknown fields %v = %v, want ErrMalformed", u, err)
		}
	}
}

// FuzzRecord: whatever the decoder accepts encodes back to the same bytes
// (one encoding per record), and nothing panics.
func FuzzRecord(f *testing.F) {
	for _, r := range []Record{sample(), full(), {}} {
		b, _ := r.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded %x, encoded back %x", b, again)
		}
		if id, err := RecordID(b); err != nil || id != r.ID {
			t.Fatalf("RecordID = %q, %v; the record's id is %q", id, err, r.ID)
		}
		var sb strings.Builder
		if err := r.Describe(&sb); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDescribe(t *testing.T) {
	r := full()
	var sb strings.Builder
	if err := r.Describe(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"On 2026-11-30 at 10:15:02.123 UTC, the appliance MA/MUN/RABAT:hq of member MA/MUN/RABAT (system complaint-desk) called GET on the service MA/GOV/ETATCIVIL/civil-status for the purpose birth-certificate, served by MA/GOV/ETATCIVIL:dc1. Outcome: ok (status 200); 0 bytes sent, 517 bytes answered, 3.2ms at the exchange.",
		"Request id", "9f86d081884c7d65", "Response body SHA-256", "Field 300", "Subject key            3", "Confidential until     2027-05-29T10:15:02Z",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
	r.ConsumerSystem = "evil\x1b[2J"
	sb.Reset()
	_ = r.Describe(&sb)
	if strings.Contains(sb.String(), "\x1b") {
		t.Errorf("Describe passes an escape sequence through:\n%q", sb.String())
	}
}
