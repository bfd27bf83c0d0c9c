package seal

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

var (
	consumerName = ident.MustAppliance("MA/MUN/RABAT:hq")
	providerName = ident.MustAppliance("MA/GOV/ETATCIVIL:dc1")
	now          = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
)

func newID(t testing.TB, name ident.Appliance) *Identity {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewIdentity(name, k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// policyOf lists the given identities' keys, as the ops-signed policy does.
func policyOf(ids ...*Identity) Keys {
	m := map[ident.Appliance]string{}
	for _, id := range ids {
		m[id.Name] = policy.KeyHashOf(id.spki)
	}
	return func(a ident.Appliance) (string, bool) { k, ok := m[a]; return k, ok }
}

func serves(a ident.Appliance) bool { return a == providerName }

// pair runs a handshake and returns both sides' sessions.
func pair(t testing.TB) (c, p *Session) {
	t.Helper()
	cid, pid := newID(t, consumerName), newID(t, providerName)
	keys := policyOf(cid, pid)
	pend, err := Start(cid, now)
	if err != nil {
		t.Fatal(err)
	}
	p, reply, err := Accept(pid, pend.Hello(), keys, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err = pend.Finish(reply, keys, serves, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestHandshake(t *testing.T) {
	c, p := pair(t)
	if c.ID != p.ID || c.Consumer != consumerName || p.Provider != providerName || c.ProviderKey != p.ProviderKey || c.ConsumerKey != p.ConsumerKey {
		t.Fatalf("sessions differ: %+v %+v", c, p)
	}
	seq := c.Next()
	route := []byte("route head")
	sealed := c.Seal(nil, ToProvider, seq, 0, false, route, []byte("GET /citizens/42"))
	got, err := p.Open(nil, ToProvider, seq, 0, false, route, sealed)
	if err != nil || string(got) != "GET /citizens/42" {
		t.Fatalf("open: %q %v", got, err)
	}
	if bytes.Contains(sealed, []byte("citizens")) {
		t.Fatal("the sealed head holds the path in clear")
	}
}

// TestHandshakeRefusals plays whoever sits between the appliances: each
// forged, altered, replayed or redirected handshake is refused with its
// error.
func TestHandshakeRefusals(t *testing.T) {
	cid, pid := newID(t, consumerName), newID(t, providerName)
	keys := policyOf(cid, pid)
	mallory := newID(t, consumerName) // the consumer's name, another key
	rogue := newID(t, providerName)

	t.Run("consumer key not in the policy", func(t *testing.T) {
		pend, _ := Start(mallory, now)
		if _, _, err := Accept(pid, pend.Hello(), keys, now, time.Hour); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("got %v, want ErrUnknownKey", err)
		}
	})
	t.Run("hello altered", func(t *testing.T) {
		pend, _ := Start(cid, now)
		var m wire.SealHello
		if err := m.UnmarshalBinary(pend.Hello()); err != nil {
			t.Fatal(err)
		}
		m.Time = m.Time.Add(time.Second)
		b, _ := m.MarshalBinary()
		if _, _, err := Accept(pid, b, keys, now, time.Hour); !errors.Is(err, ErrBadSignature) {
			t.Errorf("got %v, want ErrBadSignature", err)
		}
	})
	t.Run("hello replayed later", func(t *testing.T) {
		pend, _ := Start(cid, now)
		if _, _, err := Accept(pid, pend.Hello(), keys, now.Add(MaxSkew+time.Second), time.Hour); !errors.Is(err, ErrStale) {
			t.Errorf("got %v, want ErrStale", err)
		}
	})
	t.Run("provider key not in the policy", func(t *testing.T) {
		pend, _ := Start(cid, now)
		_, reply, err := Accept(rogue, pend.Hello(), keys, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pend.Finish(reply, keys, serves, now); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("got %v, want ErrUnknownKey", err)
		}
	})
	t.Run("reply to another hello", func(t *testing.T) {
		first, _ := Start(cid, now)
		second, _ := Start(cid, now)
		_, reply, err := Accept(pid, first.Hello(), keys, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := second.Finish(reply, keys, serves, now); !errors.Is(err, ErrWrongReply) {
			t.Errorf("got %v, want ErrWrongReply", err)
		}
	})
	t.Run("redirected to an appliance the service is not routed to", func(t *testing.T) {
		pend, _ := Start(cid, now)
		_, reply, _ := Accept(pid, pend.Hello(), keys, now, time.Hour)
		if _, err := pend.Finish(reply, keys, func(ident.Appliance) bool { return false }, now); !errors.Is(err, ErrNotProvider) {
			t.Errorf("got %v, want ErrNotProvider", err)
		}
	})
}

// TestSealedRequestsCannotBeMoved: a sealed head opens only as the
// request, direction, piece and route head it was sealed for.
func TestSealedRequestsCannotBeMoved(t *testing.T) {
	c, p := pair(t)
	other, _ := pair(t)
	one, two := c.Next(), c.Next()
	route := []byte("route")
	sealed := c.Seal(nil, ToProvider, one, 0, false, route, []byte("head"))
	for name, open := range map[string]func() ([]byte, error){
		"as another request":      func() ([]byte, error) { return p.Open(nil, ToProvider, two, 0, false, route, sealed) },
		"as an answer":            func() ([]byte, error) { return p.Open(nil, ToConsumer, one, 0, false, route, sealed) },
		"as a piece of body":      func() ([]byte, error) { return p.Open(nil, ToProvider, one, 1, false, route, sealed) },
		"with another route head": func() ([]byte, error) { return p.Open(nil, ToProvider, one, 0, false, []byte("rout3"), sealed) },
		"in another session":      func() ([]byte, error) { return other.Open(nil, ToProvider, one, 0, false, route, sealed) },
	} {
		if _, err := open(); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
	flipped := append([]byte(nil), sealed...)
	flipped[3] ^= 1
	if _, err := p.Open(nil, ToProvider, one, 0, false, route, flipped); !errors.Is(err, ErrTampered) {
		t.Errorf("a flipped bit: %v", err)
	}
}

func TestSealedBody(t *testing.T) {
	c, p := pair(t)
	seq := c.Next()
	body := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes: several pieces
	var stream bytes.Buffer
	w := c.NewBodyWriter(&stream, ToProvider, seq)
	if _, err := w.Write(body[:100]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body[100:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole := stream.Bytes()
	got, err := io.ReadAll(p.NewBodyReader(bufio.NewReader(bytes.NewReader(whole)), ToProvider, seq))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if bytes.Contains(whole, []byte("0123456789")) {
		t.Fatal("the body went in clear")
	}

	// Cut before the last piece: an error, never a short body taken as whole.
	cut := whole[:len(whole)-(2+Overhead)] // the empty last piece's frame
	if _, err := io.ReadAll(p.NewBodyReader(bufio.NewReader(bytes.NewReader(cut)), ToProvider, seq)); !errors.Is(err, ErrTruncated) {
		t.Errorf("cut body: %v, want ErrTruncated", err)
	}
	// Another request's body.
	if _, err := io.ReadAll(p.NewBodyReader(bufio.NewReader(bytes.NewReader(whole)), ToProvider, seq+1)); !errors.Is(err, ErrTampered) {
		t.Errorf("moved body: %v, want ErrTampered", err)
	}
}

func TestSealedError(t *testing.T) {
	c, p := pair(t)
	seq := c.Next()
	payload := p.SealError(seq, "not_allowed", []byte(`{"detail":"/citizens/42"}`))
	if code, ok := ErrorCode(payload); !ok || code != "not_allowed" {
		t.Fatalf("code %q %v", code, ok)
	}
	if bytes.Contains(payload, []byte("citizens")) {
		t.Fatal("the error's text went in clear")
	}
	code, text, err := c.OpenError(seq, payload)
	if err != nil || code != "not_allowed" || !bytes.Contains(text, []byte("citizens")) {
		t.Fatalf("open: %q %q %v", code, text, err)
	}
	// The exchange changes the code it may read: the seal says so.
	forged := append([]byte{byte(len("bad_gateway"))}, "bad_gateway"...)
	forged = append(forged, payload[1+len("not_allowed"):]...)
	if _, _, err := c.OpenError(seq, forged); !errors.Is(err, ErrTampered) {
		t.Errorf("forged code: %v, want ErrTampered", err)
	}
}

func TestReplayWindow(t *testing.T) {
	_, p := pair(t)
	for _, seq := range []uint64{1, 3, 2, 5000, 4999, 1000} {
		if err := p.Admit(seq, now); err != nil {
			t.Errorf("%d: %v", seq, err)
		}
	}
	for _, seq := range []uint64{0, 1, 3, 5000, 1000, 5000 - windowSize} {
		if err := p.Admit(seq, now); !errors.Is(err, ErrReplayed) {
			t.Errorf("%d again or too old: %v, want ErrReplayed", seq, err)
		}
	}
	if err := p.Admit(9000, now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("after expiry: %v", err)
	}
}

func BenchmarkSealOpenSmallRequest(b *testing.B) {
	c, p := pair(b)
	route, head := []byte("route head of some 60 bytes, as a small request has......"), []byte("GET /citizens/42?view=full headers…")
	b.ReportAllocs()
	for b.Loop() {
		seq := c.Next()
		s := c.Seal(nil, ToProvider, seq, 0, false, route, head)
		if _, err := p.Open(nil, ToProvider, seq, 0, false, route, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandshake(b *testing.B) {
	cid, pid := newID(b, consumerName), newID(b, providerName)
	keys := policyOf(cid, pid)
	for b.Loop() {
		pend, _ := Start(cid, now)
		_, reply, err := Accept(pid, pend.Hello(), keys, now, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pend.Finish(reply, keys, serves, now); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzBodyReader feeds a provider bytes that are not what the consumer
// sealed: they never open as a body, and never as a complete one.
func FuzzBodyReader(f *testing.F) {
	c, p := pair(f)
	seq := c.Next()
	var stream bytes.Buffer
	w := c.NewBodyWriter(&stream, ToProvider, seq)
	w.Write([]byte("a body of some bytes"))
	w.Close()
	whole := append([]byte(nil), stream.Bytes()...)
	f.Add(whole)
	f.Add(whole[:len(whole)-3])
	f.Add([]byte{byte(wire.FrameSealedEnd), 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := io.ReadAll(p.NewBodyReader(bufio.NewReader(bytes.NewReader(data)), ToProvider, seq))
		if err == nil && (!bytes.HasPrefix(data, whole) || string(got) != "a body of some bytes") {
			t.Fatalf("bytes not sealed by the consumer opened as a whole body: %q", got)
		}
	})
}

// TestEvidenceSalt: both appliances derive the same salt for a request,
// another for every other request and every other session, and nothing
// the exchange sees (the session's identifier, the number) gives it.
func TestEvidenceSalt(t *testing.T) {
	c, p := pair(t)
	c2, _ := pair(t)
	if c.EvidenceSalt(1) != p.EvidenceSalt(1) {
		t.Fatal("the two sides of a session derive different salts")
	}
	seen := map[[32]byte]string{}
	for _, s := range []struct {
		name string
		salt [32]byte
	}{
		{"request 1", c.EvidenceSalt(1)}, {"request 2", c.EvidenceSalt(2)}, {"another session's request 1", c2.EvidenceSalt(1)},
	} {
		if other, ok := seen[s.salt]; ok {
			t.Errorf("%s has the salt of %s", s.name, other)
		}
		seen[s.salt] = s.name
	}
	if c.evidence == [32]byte{} || c.evidence == c2.evidence || bytes.Equal(c.ID[:], c.evidence[:len(c.ID)]) {
		t.Error("the evidence key is not the session's own secret")
	}
}

func TestSignAndCheck(t *testing.T) {
	id := newID(t, consumerName)
	sig, err := Sign(id.signer, "ctx\x00", []byte("msg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSignature(id.spki, "ctx\x00", []byte("msg"), sig); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ctx, msg string }{{"ctx\x00", "msh"}, {"cty\x00", "msg"}} {
		if err := CheckSignature(id.spki, c.ctx, []byte(c.msg), sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%q %q: %v, want ErrBadSignature", c.ctx, c.msg, err)
		}
	}
	if err := CheckSignature([]byte("not a key"), "ctx\x00", []byte("msg"), sig); !errors.Is(err, ErrMalformed) {
		t.Errorf("a key that does not parse: %v", err)
	}
}
