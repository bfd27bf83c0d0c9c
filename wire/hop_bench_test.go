package wire_test

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// BenchmarkExchangeHead is what the exchange does with a small request's
// head on its way: read the route frame, decode it (every check needs
// it), and pass it on with its own fields set together with the sealed
// head that came behind it, in one buffer. "as bytes" is how it does it;
// "re-encoded" is how it did before (decode, encode again, a second
// write for what followed), for comparison. Run with -benchmem: the
// figures are allocations per request at this step.
func BenchmarkExchangeHead(b *testing.B) {
	h := wire.RouteHead{ID: "0123456789abcdef", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Provider: "MA/GOV/ETATCIVIL:dc1",
		Session: [wire.SessionIDLen]byte{1}, Seq: 7, ContentLength: 0, ConsumerSystem: "complaint-desk", Timeout: 30 * time.Second}
	var in bytes.Buffer
	if err := wire.WriteBinary(&in, wire.FrameRoute, &h); err != nil {
		b.Fatal(err)
	}
	in.Write(wire.AppendFrame(nil, wire.FrameSealedHead, make([]byte, 180))) // a sealed head's size
	stream := in.Bytes()
	src := &finReader{}
	next := func() *bufio.Reader {
		src.Reset(stream)
		return wire.GetReader(src)
	}
	b.Run("as bytes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := next()
			_, raw, err := wire.ReadFrame(r, wire.MaxHead)
			var head wire.RouteHead
			if err == nil {
				err = head.UnmarshalBinary(raw)
			}
			var out []byte
			if err == nil {
				out, err = wire.AppendForwarded(make([]byte, 0, 32+len(raw)+r.Buffered()), raw, 29*time.Second, "MA/MUN/RABAT:hq")
			}
			if err != nil {
				b.Fatal(err)
			}
			out = wire.AppendBuffered(out, r)
			if !wire.Ended(r) || len(out) < len(stream) {
				b.Fatal("not whole")
			}
			wire.PutReader(r)
		}
	})
	b.Run("re-encoded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			src.Reset(stream)
			r := wire.NewReader(src)
			_, raw, err := wire.ReadFrame(r, wire.MaxHead)
			var head wire.RouteHead
			if err == nil {
				err = head.UnmarshalBinary(raw)
			}
			head.Timeout, head.ConsumerAppliance = 29*time.Second, "MA/MUN/RABAT:hq"
			if err == nil {
				err = wire.WriteBinary(io.Discard, wire.FrameRoute, &head)
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, rerr, werr := wire.Copy(io.Discard, wire.BodyReader(r, src)); rerr != nil || werr != nil {
				b.Fatal(rerr, werr)
			}
		}
	})
}

// finReader returns the end with the last bytes, as a QUIC stream does
// when the FIN came with them.
type finReader struct{ bytes.Reader }

func (f *finReader) Read(p []byte) (int, error) {
	n, err := f.Reader.Read(p)
	if err == nil && f.Len() == 0 {
		err = io.EOF
	}
	return n, err
}
