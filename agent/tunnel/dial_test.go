package tunnel

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/internal/udpsink"
	"github.com/babgate/bab/transport"
)

// serveTCP is the exchange's TCP side at addr, requiring a client
// certificate from ca; it holds each connection until the test ends. It
// reports false when addr's TCP port is taken.
func serveTCP(t *testing.T, addr string, ca *pki) bool {
	t.Helper()
	ln, err := transport.ListenTCP(addr, exchangeTLS(t, ca), transport.TCPConfig{})
	if err != nil {
		return false
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			t.Cleanup(func() { c.CloseWithError(0, "") })
		}
	}()
	return true
}

// silentUDP is an exchange whose UDP is black-holed and whose TCP
// answers on the same port, as one behind a firewall that drops UDP.
func silentUDP(t *testing.T, ca *pki) string {
	t.Helper()
	for range 20 {
		sink, err := udpsink.Listen()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		if serveTCP(t, sink.LocalAddr().String(), ca) {
			return sink.LocalAddr().String()
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

func TestDialFallsBackToTCP(t *testing.T) {
	ca := newPKI(t, "exchange CA")
	addr := silentUDP(t, ca)
	tcfg := clientTLS(ca.pool, ca.issue(t, "MA/MUN/RABAT:hq", x509.ExtKeyUsageClientAuth))
	newTunnel := func(mode transport.Mode) *Tunnel {
		return New(Config{Addr: addr, TLS: tcfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Dial: DialConfig{Mode: mode, QUICTimeout: 300 * time.Millisecond}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	auto := newTunnel(transport.ModeAuto)
	conn, err := auto.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := auto.State()
	if conn.Kind() != transport.TCP || st.Transport != "tcp" || !strings.Contains(st.TransportReason, "QUIC got no answer within 300ms") {
		t.Fatalf("auto: over %s, state %q %q", conn.Kind(), st.Transport, st.TransportReason)
	}
	conn.CloseWithError(0, "")
	// Once QUIC is known not to answer, the next dial goes to TCP at once.
	start := time.Now()
	if conn, err = auto.dial(ctx); err != nil || conn.Kind() != transport.TCP {
		t.Fatalf("second dial: %v", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("the second dial waited %s for QUIC again", took)
	}
	conn.CloseWithError(0, "")

	forced := newTunnel(transport.ModeTCP)
	if conn, err = forced.dial(ctx); err != nil || conn.Kind() != transport.TCP || forced.State().TransportReason != "the configuration sets tunnels.transport: tcp" {
		t.Fatalf("tcp: %v %+v", err, forced.State())
	}
	conn.CloseWithError(0, "")

	quicOnly := newTunnel(transport.ModeQUIC)
	quicOnly.cfg.QUIC.HandshakeIdleTimeout = 300 * time.Millisecond
	if _, err = quicOnly.dial(ctx); err == nil || !transport.NoAnswer(err) {
		t.Fatalf("quic: %v, want no answer", err)
	}
}

// An exchange that does not answer at all, over either transport: the
// error says both.
func TestDialNeither(t *testing.T) {
	sink, err := udpsink.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ca := newPKI(t, "exchange CA")
	// Nothing listens on TCP at the sink's port: refused at once.
	tn := New(Config{Addr: sink.LocalAddr().String(), TLS: clientTLS(ca.pool, ca.issue(t, "x:y", x509.ExtKeyUsageClientAuth)),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dial: DialConfig{QUICTimeout: 200 * time.Millisecond}})
	_, err = tn.dial(context.Background())
	if err == nil || !strings.Contains(err.Error(), "over TCP") {
		t.Fatalf("dial with nothing answering: %v", err)
	}
}

// QUIC that answers but fails (here the exchange's QUIC side shows a
// certificate from another CA) falls back to TCP only after
// tunnels.quic_failures failures in a row: a QUIC that answers is not a
// blocked network, and one failure may be passing.
func TestDialFallsBackAfterFailures(t *testing.T) {
	ca, other := newPKI(t, "exchange CA"), newPKI(t, "another CA")
	var addr string
	for range 20 {
		if a := listen(t, other, func(*quic.Conn) {}); serveTCP(t, a, ca) {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("no port free for both UDP and TCP")
	}
	tn := New(Config{Addr: addr, TLS: clientTLS(ca.pool, ca.issue(t, "MA/MUN/RABAT:hq", x509.ExtKeyUsageClientAuth)),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dial: DialConfig{QUICFailures: 3}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i < 3; i++ {
		if conn, err := tn.dial(ctx); err == nil || transport.NoAnswer(err) {
			t.Fatalf("dial %d: %v, over %v; want QUIC's failure", i, err, conn)
		}
	}
	conn, err := tn.dial(ctx)
	if err != nil {
		t.Fatalf("dial 3: %v", err)
	}
	defer conn.CloseWithError(0, "")
	if st := tn.State(); conn.Kind() != transport.TCP || !strings.Contains(st.TransportReason, "QUIC failed 3 times in a row") {
		t.Fatalf("dial 3: over %s, reason %q", conn.Kind(), st.TransportReason)
	}
}
