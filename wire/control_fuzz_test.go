package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// controlFrames are the JSON control frames either side reads from its
// peer, each with a realistic example for the seed corpus. Error frames
// have their own fuzzer.
var controlFrames = []struct {
	t       wire.FrameType
	new     func() any
	example any
}{
	{wire.FrameHello, func() any { return new(wire.Hello) },
		wire.Hello{Appliance: "MA/MUN/RABAT:hq", Software: "bab 1.4.0", PolicyVersion: 7, PolicyDeltas: true}},
	{wire.FrameWelcome, func() any { return new(wire.Welcome) },
		wire.Welcome{Exchange: "exchange.gov.example", Heartbeat: 10000, ServerTime: time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)}},
	{wire.FramePolicy, func() any { return new(wire.Policy) },
		wire.Policy{Bundle: json.RawMessage(`{"payload":"eyJ2IjozfQ==","signatures":[]}`)}},
	{wire.FramePolicyAck, func() any { return new(wire.PolicyAck) },
		wire.PolicyAck{Version: 8, Applied: 7, Error: "signature does not verify", Resend: true}},
	{wire.FramePing, func() any { return new(wire.Ping) }, wire.Ping{Seq: 41}},
	{wire.FramePong, func() any { return new(wire.Pong) }, wire.Pong{Seq: 41}},
	{wire.FrameRenew, func() any { return new(wire.Renew) }, wire.Renew{CSR: []byte("0\x82\x01\x00csr")}},
	{wire.FrameRenewed, func() any { return new(wire.Renewed) }, wire.Renewed{Chain: [][]byte{[]byte("leaf"), []byte("ca")}}},
	{wire.FrameAttest, func() any { return new(wire.Attest) }, wire.Attest{Nonce: bytes.Repeat([]byte{7}, 32), PCRs: []int{0, 2, 4, 7}}},
	{wire.FrameQuote, func() any { return new(wire.Quote) },
		wire.Quote{Nonce: []byte{1, 2}, Attest: []byte{0xff, 'T', 'C', 'G'}, Signature: []byte{0, 0x18}, PCRValues: map[int][]byte{0: bytes.Repeat([]byte{0}, 32), 7: bytes.Repeat([]byte{9}, 32)}}},
	{wire.FrameAttested, func() any { return new(wire.Attested) }, wire.Attested{Quarantined: true, Reason: "PCR 7 differs"}},
	{wire.FrameProbe, func() any { return new(wire.Probe) }, wire.Probe{}},
	{wire.FrameTraceQuery, func() any { return new(tracelog.TraceQuery) },
		tracelog.TraceQuery{ID: 3, Since: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Service: "MA/GOV/ETATCIVIL/civil-status", From: 4096, Limit: 100}},
	{wire.FrameTraceRecords, func() any { return new(tracelog.TraceRecords) },
		tracelog.TraceRecords{ID: 3, Next: 4197, Records: []tracelog.TraceRecord{{Index: 4100, Record: tracelog.Record{At: time.Date(2026, 11, 29, 10, 0, 1, 5, time.UTC),
			ID: "9f86d081884c7d65", Consumer: "MA/MUN/RABAT:hq", Provider: "MA/GOV/ETATCIVIL:dc1", Service: "MA/GOV/ETATCIVIL/civil-status",
			Method: "GET", Outcome: "ok", Status: 200, ResponseBytes: 517, Duration: 3200000, ConfidentialUntil: time.Date(2027, 5, 28, 0, 0, 0, 0, time.UTC)}}}}},
	{wire.FrameEnroll, func() any { return new(wire.Enroll) },
		wire.Enroll{Token: "0a1b2c3d.AbCdEfGhIjKlMnOpQrStUvWxYz012-_9.q80xjDKnLhR1lbX9B6aBUdMRJLeoB0XCbPd2tZd5Uyc", Name: "hq",
			TPM: &wire.EnrollTPM{EKCert: []byte("ek cert"), EKArea: []byte{0, 0x23}, AKArea: []byte{0, 0x23}}}},
	{wire.FrameEnrolled, func() any { return new(wire.Enrolled) },
		wire.Enrolled{Appliance: "MA/MUN/RABAT:hq", Chain: [][]byte{[]byte("leaf")}, CA: []byte("ca"), OpsKeys: [][]byte{[]byte("k1")}, PolicyThreshold: 1}},
	{wire.FrameChallenge, func() any { return new(wire.Challenge) },
		wire.Challenge{IDObject: []byte("id"), EncSecret: []byte("secret"), Nonce: []byte("nonce"), PCRs: []int{0, 7}}},
	{wire.FrameProof, func() any { return new(wire.Proof) },
		wire.Proof{Secret: []byte("s"), QuoteAttest: []byte("q"), PCRValues: map[int][]byte{16: {1}}, KeyArea: []byte("k"), CSR: []byte("c")}},
	{wire.FrameEvidenceAck, func() any { return new(wire.EvidenceAck) },
		wire.EvidenceAck{Key: bytes.Repeat([]byte{3}, 32), Number: 12, Index: 4096, Error: "the trace is full", Retry: true}},
}

// FuzzDecodeJSON decodes a peer's control frame of each type. A frame is
// either refused with ErrMalformed or accepted with its numbers in their
// bounds, and encoding what was accepted is a fixed point after one round
// (encode, decode, encode gives the same bytes), so that what one side
// decoded is what it would pass on.
func FuzzDecodeJSON(f *testing.F) {
	for i, c := range controlFrames {
		b, err := json.Marshal(c.example)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(i), b)
	}
	f.Add(kind(wire.FrameWelcome), []byte(`{"heartbeat_ms":9223372036854}`))
	f.Add(kind(wire.FrameWelcome), []byte(`{"heartbeat_ms":-1,"server_time":"2025-01-01T00:00:00+01:00"}`))
	f.Add(kind(wire.FrameEnrolled), []byte(`{"policy_threshold":-1,"error":{"code":"x","retry_after_ms":-5}}`))
	f.Add(kind(wire.FrameQuote), []byte(`{"pcr_values":{"-1":"AA==","01":null}}`))
	f.Add(kind(wire.FrameHello), []byte(`null`))
	f.Add(kind(wire.FrameHello), []byte(`{"appliance":"\ud800","policy_version":1e3}`))
	f.Fuzz(func(t *testing.T, kind byte, payload []byte) {
		c := controlFrames[int(kind)%len(controlFrames)]
		v := c.new()
		if err := wire.DecodeJSON(c.t, payload, v); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("DecodeJSON(%s) error %v does not match ErrMalformed", c.t, err)
			}
			return
		}
		checkBounds(t, v)
		b1, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encode a decoded %s frame: %v", c.t, err)
		}
		v2 := c.new()
		if err := wire.DecodeJSON(c.t, b1, v2); err != nil {
			t.Fatalf("decode a re-encoded %s frame %s: %v", c.t, b1, err)
		}
		b2, err := json.Marshal(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("%s frame changed on the way round (%v):\n%s\n%s", c.t, err, b1, b2)
		}
	})
}

// kind is the fuzzer's first argument that selects frame type t.
func kind(t wire.FrameType) byte {
	for i, c := range controlFrames {
		if c.t == t {
			return byte(i)
		}
	}
	panic("no control frame " + t.String())
}

// checkBounds checks the numbers bounds.go promises for a decoded frame.
func checkBounds(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case *wire.Welcome:
		if v.Heartbeat != 0 && (v.Heartbeat.Duration() < wire.MinHeartbeat || v.Heartbeat.Duration() > wire.MaxHeartbeat) {
			t.Fatalf("accepted heartbeat_ms %d", v.Heartbeat)
		}
	case *wire.Enrolled:
		if v.PolicyThreshold < 0 {
			t.Fatalf("accepted policy_threshold %d", v.PolicyThreshold)
		}
		if v.Error != nil {
			checkBounds(t, v.Error)
		}
	case *wire.Error:
		if d := v.RetryAfter.Duration(); v.RetryAfter < 0 || d < 0 || d > wire.MaxRetryAfter {
			t.Fatalf("accepted retry_after_ms %d as %v", v.RetryAfter, d)
		}
	}
}

// FuzzDecodeError decodes an error frame as the consumer's gateway does
// with one a provider sent through the exchange: refused with
// ErrMalformed, or a code and a retry hint within [0, MaxRetryAfter] that
// survive a write and a read unchanged.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"code":"rate_limited","detail":"This appliance reached the limit of policy rule 2.","hop":"provider","retry_after_ms":1500}`,
		`{"code":"not_allowed","detail":"Policy v3 has no rule for MA/MUN/RABAT on this service.","hop":"exchange"}`,
		`{"code":"rate_limited","retry_after_ms":9223372036854}`,
		`{"code":"rate_limited","retry_after_ms":-9223372036854775808}`,
		`{"code":"x","retry_after_ms":1e400}`,
		`{"code":""}`,
		`{"detail":"no code"}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := wire.DecodeError(payload)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("DecodeError error %v does not match ErrMalformed", err)
			}
			return
		}
		if e.Code == "" {
			t.Fatalf("accepted an error frame without a code: %s", payload)
		}
		checkBounds(t, e)
		var buf bytes.Buffer
		if err := wire.WriteError(&buf, e); err != nil {
			t.Fatalf("WriteError of a decoded error: %v", err)
		}
		ft, p, err := wire.ReadFrame(wire.NewReader(&buf), 0)
		if err != nil || ft != wire.FrameError {
			t.Fatalf("ReadFrame of a written error: %s, %v", ft, err)
		}
		e2, err := wire.DecodeError(p)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("error frame changed on the way round (%v):\n%+v\n%+v", err, e, e2)
		}
	})
}

// FuzzPolicySigned inflates a policy frame's DEFLATE data, which an
// exchange (or whoever holds its key) chooses: the result is refused with
// ErrMalformed or ErrFrameTooLarge, or at most the bundle limit; and what
// Signed returns travels through PolicyFrame and back unchanged (a JSON
// form up to JSON compaction, which the signature does not cover).
func FuzzPolicySigned(f *testing.F) {
	for _, signed := range [][]byte{
		[]byte(`{"payload":"` + strings.Repeat("TUEvTVVOL1NJTTA6c2ltLTAwMDAx", 200) + `","signatures":[]}`),
		[]byte("\x00bab-signed/1\n" + strings.Repeat("\x03abc\x00", 300)),
		{},
	} {
		frame, err := wire.PolicyFrame(signed)
		if err != nil {
			f.Fatal(err)
		}
		var p wire.Policy
		if err := json.Unmarshal(frame, &p); err != nil {
			f.Fatal(err)
		}
		f.Add(p.Deflate)
	}
	f.Add([]byte("not deflate at all"))
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // a stored block of nothing
	f.Add([]byte{0x03, 0x00})                   // an empty final fixed block
	f.Fuzz(func(t *testing.T, deflate []byte) {
		p := wire.Policy{Deflate: deflate}
		out, err := p.Signed()
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrFrameTooLarge) {
				t.Fatalf("Signed error %v is neither ErrMalformed nor ErrFrameTooLarge", err)
			}
			return
		}
		if len(out) > wire.MaxFrame {
			t.Fatalf("inflated to %d bytes, beyond %d", len(out), wire.MaxFrame)
		}
		if len(deflate) == 0 || len(out) > 1<<20 {
			return // compressing megabytes again would only slow the fuzzer
		}
		jsonForm := len(out) > 0 && out[0] == '{'
		frame, err := wire.PolicyFrame(out)
		if err != nil {
			if jsonForm && !json.Valid(out) {
				return // not a bundle in either form
			}
			t.Fatalf("PolicyFrame of %d inflated bytes: %v", len(out), err)
		}
		var back wire.Policy
		if err := wire.DecodeJSON(wire.FramePolicy, frame, &back); err != nil {
			t.Fatalf("decode a policy frame just made: %v", err)
		}
		got, err := back.Signed()
		if err != nil {
			t.Fatalf("Signed of a policy frame just made: %v", err)
		}
		if jsonForm && len(back.Deflate) == 0 {
			got, out = compact(t, got), compact(t, out)
		}
		if !bytes.Equal(got, out) {
			t.Fatalf("bundle changed on the way round:\n%q\n%q", out, got)
		}
	})
}

// compact is b as encoding/json re-encodes a RawMessage.
func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := json.Marshal(json.RawMessage(b))
	if err != nil {
		t.Fatalf("compact %q: %v", b, err)
	}
	return out
}

// FuzzParseToken parses what ops paste into bab enroll: refused with
// ErrTokenMalformed, or a token whose four parts have their fixed sizes
// and which prints back as the pasted text without surrounding space.
func FuzzParseToken(f *testing.F) {
	full := tokID + "." + tokSecret + "." + tokPin + "." + tokOps
	for _, s := range []string{
		full,
		" " + full + "\r\n",
		"0A1B2C3D." + tokSecret + "." + tokPin + "." + tokOps,
		full + ".",
		tokID + "." + tokSecret + "." + tokPin,
		tokID + "." + tokSecret + "." + tokPin + ".",
		tokID + "..." + tokOps,
		"",
		"zzzzzzzz." + tokSecret + "." + tokPin + "." + tokOps,
		tokID + "." + strings.Repeat("+", 32) + "." + tokPin + "." + tokOps,
		tokID + "." + tokSecret + "." + tokPin + "." + strings.Repeat("=", 43),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := wire.ParseToken(s)
		if err != nil {
			if !errors.Is(err, wire.ErrTokenMalformed) {
				t.Fatalf("ParseToken error %v does not match ErrTokenMalformed", err)
			}
			return
		}
		if len(tok.ID) != 8 || len(tok.Secret) != 32 || len(tok.Pin) != 43 || len(tok.Ops) != 43 {
			t.Fatalf("ParseToken(%q) = %+v: parts of the wrong size", s, tok)
		}
		if tok.String() != strings.TrimSpace(s) {
			t.Fatalf("ParseToken(%q) prints as %q", s, tok.String())
		}
		again, err := wire.ParseToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("ParseToken(%q) = %+v, %v; want %+v", tok.String(), again, err, tok)
		}
	})
}
