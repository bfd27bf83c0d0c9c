package evidence

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRequestEvidence is what evidence costs one appliance for one
// request with a 1 KiB body each way (a lookup's order of size): the
// target and head digests, the body digests as the bodies stream, the
// entry, and its share of a batch (the Merkle root and one Ed25519
// signature per MaxBatch entries, and the frame's encoding). The
// signature of the key certificate (the TPM's) happens once per key and
// is left out.
func BenchmarkRequestEvidence(b *testing.B) {
	s, err := NewSigner("MA/MUN/RABAT:hq", applianceKey(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(time.Now()); err != nil {
		b.Fatal(err)
	}
	o := NewOutbox(s, func([]byte) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	o.Limit = 1 << 30
	reqBody, respBody := bytes.Repeat([]byte("q"), 1024), bytes.Repeat([]byte("a"), 1024)
	auth, clear := bytes.Repeat([]byte("r"), 90), bytes.Repeat([]byte("h"), 60)
	salt := testSalt
	template := sampleEntry()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := *template
		e.Seq = uint64(i)
		e.Target = Target(salt, "GET", "/citizens/4242424242", "")
		e.RequestHead = RequestHead(salt, auth, clear)
		up := NewBody(salt, true)
		_, _ = up.Writer(io.Discard).Write(reqBody)
		up.End()
		e.RequestBody, _ = up.Sum()
		e.ResponseHead = ResponseHead(salt, clear)
		down := NewBody(salt, false)
		_, _ = down.Writer(io.Discard).Write(respBody)
		down.End()
		e.ResponseBody, _ = down.Sum()
		o.Add(&e)
		if i%MaxBatch == MaxBatch-1 {
			o.seal(time.Now())
			o.sendDue(time.Now())
			o.mu.Lock()
			o.pending, o.held = nil, 0
			o.mu.Unlock()
		}
	}
}

// BenchmarkBody is the cost of hashing a body as it streams, per byte.
func BenchmarkBody(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	body := NewBody(testSalt, true)
	w := body.Writer(io.Discard)
	for b.Loop() {
		_, _ = w.Write(buf)
	}
}

var _ = context.Background

// BenchmarkVerifyBatch is what the exchange spends checking one entry of
// a full batch: its share of the certificate's and the batch's signatures,
// decoding it, and hashing it into the root.
func BenchmarkVerifyBatch(b *testing.B) {
	s, _ := NewSigner("MA/MUN/RABAT:hq", applianceKey(b))
	es := entries(MaxBatch)
	sealed, err := s.Seal(es, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var c KeyCert
		var h Batch
		if err := c.UnmarshalBinary(sealed.Cert); err != nil {
			b.Fatal(err)
		}
		if err := h.UnmarshalBinary(sealed.Head); err != nil {
			b.Fatal(err)
		}
		if err := c.Verify(); err != nil {
			b.Fatal(err)
		}
		if err := h.Verify(&c); err != nil {
			b.Fatal(err)
		}
		if err := h.VerifyEntries(sealed.Entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/MaxBatch, "ns/entry")
}
