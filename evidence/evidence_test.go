package evidence

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/seal"
)

var (
	t0       = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	testSalt = func() Salt {
		var s Salt
		for i := range s {
			s[i] = byte(i + 1)
		}
		return s
	}()
)

// TestDigestsAsOpenSSLComputesThem: the keyed digests are plain
// HMAC-SHA-256 over a label and the bytes, as docs/trace.md says anyone
// can check them (these values come from openssl dgst -sha256 -mac HMAC).
func TestDigestsAsOpenSSLComputesThem(t *testing.T) {
	if got := Target(testSalt, "GET", "/citizens/42", "cin=AB1234").String(); got != "b8583919f5eed051e1d715744191a1814ab33bb161a08b585c1ebee036ff317c" {
		t.Errorf("target digest %s", got)
	}
	if got := BodyDigest(testSalt, true, []byte("hello body")).String(); got != "95feb65b6d3816b72496744d5629f2390973631bcc3a8d73b203793e61eec0a5" {
		t.Errorf("request body digest %s", got)
	}
}

// TestDigestsAreKeyedAndApart: without the salt a digest confirms no
// guess, and no digest passes for another kind's.
func TestDigestsAreKeyedAndApart(t *testing.T) {
	other := testSalt
	other[0] ^= 1
	body := []byte(`{"cin":"424242424"}`)
	plain := sha256.Sum256(body)
	ds := map[string]Digest{
		"request body":         BodyDigest(testSalt, true, body),
		"response body":        BodyDigest(testSalt, false, body),
		"other salt":           BodyDigest(other, true, body),
		"plain SHA-256":        plain,
		"target":               Target(testSalt, "GET", "/x", ""),
		"target with no query": Target(testSalt, "GET", "/x?", ""),
		"response head":        ResponseHead(testSalt, []byte("h")),
		"refusal":              Refusal(testSalt, "h", nil),
		"request head":         RequestHead(testSalt, []byte("h"), nil),
		"request head, moved":  RequestHead(testSalt, nil, []byte("h")),
	}
	seen := map[Digest]string{}
	for name, d := range ds {
		if o, ok := seen[d]; ok {
			t.Errorf("%s and %s have the same digest", name, o)
		}
		seen[d] = name
	}
}

// TestBodyAsItStreams: a body hashed as it is copied, in pieces, has the
// digest of the whole; cut off (no end, or a read error), it has none.
func TestBodyAsItStreams(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 10000)
	want := BodyDigest(testSalt, false, data)

	b := NewBody(testSalt, false)
	var out bytes.Buffer
	if _, err := io.Copy(b.Writer(&out), iotest.OneByteReader(bytes.NewReader(data[:5000]))); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Sum(); ok {
		t.Fatal("a body not ended has a digest")
	}
	_, _ = b.Writer(&out).Write(data[5000:])
	b.End()
	if d, ok := b.Sum(); !ok || d != want || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("written through: %v %s, want %s", ok, d, want)
	}

	r := NewBody(testSalt, false)
	if got, err := io.ReadAll(r.Reader(iotest.HalfReader(bytes.NewReader(data)))); err != nil || !bytes.Equal(got, data) {
		t.Fatal(err)
	}
	if d, ok := r.Sum(); !ok || d != want {
		t.Fatalf("read through: %v %s", ok, d)
	}
	cut := NewBody(testSalt, false)
	_, err := io.ReadAll(cut.Reader(iotest.TimeoutReader(bytes.NewReader(data))))
	if _, ok := cut.Sum(); err == nil || ok {
		t.Fatalf("a body whose reading failed has a digest (%v)", err)
	}
}

func TestParseSalt(t *testing.T) {
	if s, err := ParseSalt(testSalt.String()); err != nil || s != testSalt {
		t.Fatal(s, err)
	}
	for _, bad := range []string{"", "01", strings.Repeat("zz", 32), testSalt.String() + "00"} {
		if _, err := ParseSalt(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func sampleEntry() *Entry {
	return &Entry{Side: Consumer, At: t0, ID: "9f86d081884c7d65", Consumer: "MA/MUN/RABAT:hq", Provider: "MA/GOV/ETATCIVIL:dc1",
		Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Session: [16]byte{1, 2, 3}, Seq: 7,
		Target: Target(testSalt, "GET", "/citizens/42", ""), RequestHead: RequestHead(testSalt, []byte("auth"), []byte("clear")),
		RequestBody: BodyDigest(testSalt, true, nil), ResponseHead: ResponseHead(testSalt, []byte("200")),
		ResponseBody: BodyDigest(testSalt, false, []byte(`{"id":42}`))}
}

// TestEntryEncoding: an entry round-trips, and its one encoding is the
// only one read: any byte changed is refused or reads as another entry.
func TestEntryEncoding(t *testing.T) {
	e := sampleEntry()
	b := e.AppendBinary(nil)
	var got Entry
	if err := got.UnmarshalBinary(b); err != nil || got != *e {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, got, *e)
	}
	noAnswer := *e
	noAnswer.ResponseHead, noAnswer.ResponseBody = Digest{}, Digest{}
	if err := got.UnmarshalBinary(noAnswer.AppendBinary(nil)); err != nil || got != noAnswer {
		t.Fatalf("an entry without answer: %v", err)
	}
	for i := range b {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x41
		var o Entry
		if err := o.UnmarshalBinary(bad); err == nil && bytes.Equal(o.AppendBinary(nil), b) {
			t.Fatalf("byte %d changed, and the entry reads as the same", i)
		}
	}
	for name, bad := range map[string][]byte{
		"empty":          nil,
		"version 2":      append([]byte{2}, b[1:]...),
		"side 3":         append([]byte{1, 3}, b[2:]...),
		"trailing":       append(append([]byte(nil), b...), 0),
		"zero digest":    append(b[:len(b)-33:len(b)-33], append([]byte{32}, make([]byte, 32)...)...),
		"short digest":   append(b[:len(b)-33:len(b)-33], append([]byte{31}, make([]byte, 31)...)...),
		"overlong seq":   bytes.Replace(b, []byte{0x07, 0x20}, []byte{0x87, 0x00, 0x20}, 1),
		"too large":      make([]byte, MaxEntry+1),
		"truncated time": b[:4],
	} {
		if err := got.UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func applianceKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKeyCertificate: the appliance key certifies a signing key; the
// certificate holds against the policy that binds that key, and not
// against one that binds another, nor once changed, nor forged with
// another key.
func TestKeyCertificate(t *testing.T) {
	k := applianceKey(t)
	s, err := NewSigner("MA/MUN/RABAT:hq", k)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([][]byte{sampleEntry().AppendBinary(nil)}, 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	var c KeyCert
	if err := c.UnmarshalBinary(sealed.Cert); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	hash, _ := policy.KeyHash(k.Public())
	binds := func(key string) func(string) (string, bool) {
		return func(name string) (string, bool) { return key, name == "MA/MUN/RABAT:hq" }
	}
	if err := c.Bound(binds(hash)); err != nil {
		t.Fatal(err)
	}
	if c.Hash() != sealed.Key || !c.Valid(t0) || c.Valid(t0.Add(CertLife+time.Second)) {
		t.Fatalf("hash or validity: %+v", c)
	}
	other, _ := policy.KeyHash(applianceKey(t).Public())
	if err := c.Bound(binds(other)); !errors.Is(err, ErrCertificate) {
		t.Errorf("against a policy that binds another key: %v", err)
	}
	if err := c.Bound(func(string) (string, bool) { return "", false }); !errors.Is(err, ErrCertificate) {
		t.Errorf("against a policy that does not list the appliance: %v", err)
	}
	// Signed by another key that names itself: it verifies, but is not
	// bound to the appliance.
	forger, _ := NewSigner("MA/MUN/RABAT:hq", applianceKey(t))
	fs, _ := forger.Seal([][]byte{sampleEntry().AppendBinary(nil)}, 0, t0)
	var forged KeyCert
	_ = forged.UnmarshalBinary(fs.Cert)
	if err := forged.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := forged.Bound(binds(hash)); !errors.Is(err, ErrCertificate) {
		t.Errorf("a certificate by another key: %v", err)
	}
	// Naming the appliance key but signed by another: does not verify.
	forged.ApplianceKey = c.ApplianceKey
	if err := forged.Verify(); !errors.Is(err, ErrCertificate) {
		t.Errorf("a certificate naming the appliance key, signed by another: %v", err)
	}
	for i := range sealed.Cert {
		bad := append([]byte(nil), sealed.Cert...)
		bad[i] ^= 0x01
		var o KeyCert
		if o.UnmarshalBinary(bad) == nil && o.Verify() == nil && o.Bound(binds(hash)) == nil && o.Hash() == c.Hash() {
			t.Fatalf("byte %d of the certificate changed, and it still holds", i)
		}
	}
	long := c
	long.NotAfter = long.NotBefore.Add(MaxCertLife + time.Second)
	long.Sig, _ = seal.Sign(k, certContext, long.Signed())
	if err := long.Verify(); !errors.Is(err, ErrCertificate) {
		t.Errorf("a certificate valid longer than %s: %v", MaxCertLife, err)
	}
}

// TestSignerCertifiesOncePerKey: the appliance key signs once for many
// batches, and again only once the key is due for renewal.
func TestSignerCertifiesOncePerKey(t *testing.T) {
	k := &countingSigner{PrivateKey: applianceKey(t)}
	s, _ := NewSigner("MA/MUN/RABAT:hq", k)
	e := [][]byte{sampleEntry().AppendBinary(nil)}
	var keys []Digest
	for i := range 50 {
		sealed, err := s.Seal(e, 0, t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if sealed.Number != uint64(i+1) {
			t.Fatalf("batch %d numbered %d", i+1, sealed.Number)
		}
		keys = append(keys, sealed.Key)
	}
	if k.n != 1 || keys[0] != keys[49] {
		t.Fatalf("the appliance key signed %d times for 50 batches", k.n)
	}
	later, _ := s.Seal(e, 0, t0.Add(CertLife-CertLife/20))
	if k.n != 2 || later.Key == keys[0] || later.Number != 1 {
		t.Fatalf("near the end of its validity: %d signatures, batch %d", k.n, later.Number)
	}
}

type countingSigner struct {
	*ecdsa.PrivateKey
	n int
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n++
	return c.PrivateKey.Sign(r, d, o)
}
