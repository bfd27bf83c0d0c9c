package transport_test

import (
	"context"
	"io"
	"testing"
)

// The transports side by side on loopback with mutual TLS 1.3:
//
//	go test -run '^$' -bench . -benchtime 3s ./transport
//
// RoundTrip is a new stream per 64-byte request and answer, as a small
// Bab request is; Throughput is 64 MiB on one stream.

func echoServer(p pair) {
	go func() {
		for {
			s, err := p.server.AcceptStream(context.Background())
			if err != nil {
				return
			}
			go func() {
				b, _ := io.ReadAll(s)
				s.Write(b[:min(len(b), 64)])
				s.Close()
			}()
		}
	}()
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			p := tr.dial(b, opts{})
			defer p.client.CloseWithError(0, "")
			echoServer(p)
			msg := make([]byte, 64)
			buf := make([]byte, 128)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				s, err := p.client.OpenStreamSync(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				s.Write(msg)
				s.Close()
				if _, err := io.ReadAtLeast(s, buf, 64); err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, s)
			}
		})
	}
}

func BenchmarkThroughput(b *testing.B) {
	const size = 64 << 20
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			p := tr.dial(b, opts{})
			defer p.client.CloseWithError(0, "")
			echoServer(p)
			chunk := make([]byte, 256<<10)
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				s, err := p.client.OpenStreamSync(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < size; n += len(chunk) {
					if _, err := s.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				s.Close()
				io.Copy(io.Discard, s)
			}
		})
	}
}
