package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
	"github.com/quic-go/quic-go"
)

// Every way a stream can end frees it on both sides, and a cancelled
// write never reads as a complete body, however the signal and the data
// race.
func TestTCPStreamsFreed(t *testing.T) {
	p := tcpPair(t, opts{})
	endings := []struct {
		name   string
		client func(s transport.Stream)
		server func(s transport.Stream)
	}{
		{"close both", func(s transport.Stream) { s.Close(); io.Copy(io.Discard, s) },
			func(s transport.Stream) { io.Copy(io.Discard, s); s.Close() }},
		{"cancel write, server closes", func(s transport.Stream) { s.CancelWrite(1); io.Copy(io.Discard, s) },
			func(s transport.Stream) { mustReset(t, s, 1); s.Close() }},
		{"cancel read", func(s transport.Stream) { s.Close(); s.CancelRead(2) },
			func(s transport.Stream) { io.Copy(io.Discard, s); writeUntilError(t, s) }},
		{"abort both", func(s transport.Stream) { s.CancelRead(3); s.CancelWrite(3) },
			func(s transport.Stream) { mustReset(t, s, 3); writeUntilError(t, s) }},
		{"server aborts", func(s transport.Stream) { s.Close(); io.Copy(io.Discard, s) },
			func(s transport.Stream) { s.CancelRead(4); s.CancelWrite(4) }},
		// Reads cancelled after the peer finished and forgot the stream:
		// no RESET answers the STOP_SENDING.
		{"late cancel read", func(s transport.Stream) {
			s.Close()
			time.Sleep(20 * time.Millisecond)
			s.CancelRead(5)
		}, func(s transport.Stream) { io.Copy(io.Discard, s); s.Write([]byte("answer")); s.Close() }},
		// Readers that stop at the last byte they expect, never asking
		// for the end: the end comes with the last bytes, as on QUIC.
		{"exact reads", func(s transport.Stream) { s.Close(); io.ReadFull(s, make([]byte, 5)) },
			func(s transport.Stream) {
				time.Sleep(time.Millisecond) // the FIN arrives while the data waits
				io.Copy(io.Discard, s)
				s.Write([]byte("hello"))
				s.Close()
			}},
	}
	go func() {
		for i := 0; ; i++ {
			s, err := p.server.AcceptStream(context.Background())
			if err != nil {
				return
			}
			var b [1]byte
			if _, err := io.ReadFull(s, b[:]); err != nil {
				// Cancelled before its first byte was read, as QUIC
				// allows: finish our direction too.
				var se *quic.StreamError
				if !errors.As(err, &se) || !se.Remote {
					t.Errorf("stream %d: %v", i, err)
				}
				s.Close()
				continue
			}
			go endings[b[0]].server(s)
		}
	}()
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			s, err := p.client.OpenStreamSync(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			k := i % len(endings)
			s.Write(append([]byte{byte(k)}, make([]byte, i*37)...))
			endings[k].client(s)
		})
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		co, cm := transport.OpenTCPStreams(p.client)
		so, sm := transport.OpenTCPStreams(p.server)
		if co+cm+so+sm == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	co, cm := transport.OpenTCPStreams(p.client)
	so, sm := transport.OpenTCPStreams(p.server)
	t.Fatalf("streams left: client %d (yamux %d), server %d (yamux %d)", co, cm, so, sm)
}

func mustReset(t *testing.T, s transport.Stream, code transport.StreamErrorCode) {
	err := readUntilError(t, s)
	var se *quic.StreamError
	if !errors.As(err, &se) || se.ErrorCode != code || !se.Remote {
		t.Errorf("read of a cancelled stream: %v, want reset %d", err, code)
	}
}

// More streams than the peer allows are refused with a reset, not left
// waiting; the ones within the limit work.
func TestTCPMaxIncomingStreams(t *testing.T) {
	st, ct := testTLS(t)
	ln, err := transport.ListenTCP("127.0.0.1:0", st, transport.TCPConfig{MaxIncomingStreams: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := transport.DialTCP(ctx, ln.Addr().String(), ct, transport.TCPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseWithError(0, "")
	if _, err := ln.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	var refused int
	for range 6 {
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("x"))
		s.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, err = s.Read(make([]byte, 1))
		var se *quic.StreamError
		if errors.As(err, &se) && se.Remote {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d streams refused, want 2 of 6 over a limit of 4", refused)
	}
	if ours, _ := transport.OpenTCPStreams(c); ours != 4 {
		t.Fatalf("%d streams kept, want the 4 accepted", ours)
	}
}

// A client certificate the server refuses fails the dial with a remote
// crypto error on both transports, as status and doctor tell it.
func TestRefusedCertificate(t *testing.T) {
	for _, tr := range []string{"quic", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			st, ct := testTLS(t)
			st.VerifyConnection = func(tls.ConnectionState) error { return errors.New("revoked") }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var err error
			if tr == "quic" {
				ln, lerr := quic.ListenAddr("127.0.0.1:0", st, wire.QUICConfig())
				if lerr != nil {
					t.Fatal(lerr)
				}
				defer ln.Close()
				go ln.Accept(ctx)
				var c transport.Conn
				if c, err = transport.DialQUIC(ctx, ln.Addr().String(), ct, wire.QUICConfig()); err == nil {
					// QUIC's client is done before the server checked
					// its certificate: the refusal comes next.
					_, err = c.AcceptStream(ctx)
				}
			} else {
				ln, lerr := transport.ListenTCP("127.0.0.1:0", st, transport.TCPConfig{})
				if lerr != nil {
					t.Fatal(lerr)
				}
				defer ln.Close()
				_, err = transport.DialTCP(ctx, ln.Addr().String(), ct, transport.TCPConfig{})
			}
			var te *quic.TransportError
			if !errors.As(err, &te) || !te.Remote || !te.ErrorCode.IsCryptoError() {
				t.Fatalf("dial with a refused certificate: %v (%T)", err, err)
			}
		})
	}
}
