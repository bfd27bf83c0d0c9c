package transport_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/internal/pathsim"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
	"github.com/quic-go/quic-go"
)

// The conformance tests run the same table against QUIC and TCP: the
// semantics the rest of Bab relies on must hold on both.

const testALPN = "bab-test"

// testTLS makes a server and a client configuration for mutual TLS with
// one self-signed certificate.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	server = &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, NextProtos: []string{testALPN},
	}
	client = &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		RootCAs: pool, NextProtos: []string{testALPN},
	}
	return server, client
}

// pair is a connection seen from both ends.
type pair struct {
	client, server transport.Conn
	path           *pathsim.Path
}

// opts tunes a pair for a test: a short keep-alive for the tests of a
// lost connection, a path between the two ends to cut.
type opts struct {
	fastLoss bool
	viaPath  bool
}

type dialer func(t testing.TB, o opts) pair

var transports = []struct {
	name string
	dial dialer
}{
	{"quic", quicPair},
	{"tcp", tcpPair},
}

func quicPair(t testing.TB, o opts) pair {
	st, ct := testTLS(t)
	qc := wire.QUICConfig()
	if o.fastLoss {
		qc.MaxIdleTimeout, qc.KeepAlivePeriod = time.Second, 200*time.Millisecond
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", st, qc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr, path := via(t, ln.Addr().String(), o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := quic.DialAddr(ctx, addr, ct, qc)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := pair{transport.FromQUIC(q), transport.FromQUIC(sq), path}
	t.Cleanup(func() { p.client.CloseWithError(0, ""); p.server.CloseWithError(0, "") })
	return p
}

func tcpPair(t testing.TB, o opts) pair {
	st, ct := testTLS(t)
	var cfg transport.TCPConfig
	if o.fastLoss {
		cfg.KeepAlive = 200 * time.Millisecond
	}
	ln, err := transport.ListenTCP("127.0.0.1:0", st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr, path := via(t, ln.Addr().String(), o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.DialTCP(ctx, addr, ct, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := pair{c, s, path}
	t.Cleanup(func() { p.client.CloseWithError(0, ""); p.server.CloseWithError(0, "") })
	return p
}

func via(t testing.TB, addr string, o opts) (string, *pathsim.Path) {
	if !o.viaPath {
		return addr, nil
	}
	p, err := pathsim.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p.Addr, p
}

// open opens a stream from the client and accepts it on the server (a
// QUIC stream shows up at the peer with its first byte).
func open(t *testing.T, p pair) (cs, ss transport.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := p.client.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Write([]byte{'o'}); err != nil {
		t.Fatal(err)
	}
	ss, err = p.server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := io.ReadFull(ss, b[:]); err != nil || b[0] != 'o' {
		t.Fatalf("first byte: %q %v", b, err)
	}
	return cs, ss
}

func wantStreamError(t *testing.T, what string, err error, code transport.StreamErrorCode, remote bool) {
	t.Helper()
	var se *quic.StreamError
	if !errors.As(err, &se) || se.ErrorCode != code || se.Remote != remote {
		t.Fatalf("%s: got %v (%T), want stream error %#x remote=%v", what, err, err, code, remote)
	}
}

func waitDone(t *testing.T, what string, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: context did not end", what)
	}
}

// readUntilError reads and discards until an error, bounded in time.
func readUntilError(t *testing.T, s transport.Stream) error {
	t.Helper()
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, s)
	if err == nil {
		return io.EOF
	}
	return err
}

// writeUntilError writes until an error, bounded in time.
func writeUntilError(t *testing.T, s transport.Stream) error {
	t.Helper()
	_ = s.SetWriteDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 32<<10)
	for {
		if _, err := s.Write(buf); err != nil {
			return err
		}
	}
}

var conformance = []struct {
	name string
	opts opts
	run  func(t *testing.T, p pair)
}{
	{"close is a FIN and the read direction stays open", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		body := randomBytes(300 << 10)
		go func() { cs.Write(body); cs.Close() }()
		got, err := io.ReadAll(ss)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("server read %d bytes, %v; want %d and EOF", len(got), err, len(body))
		}
		waitDone(t, "client stream after Close", cs.Context())
		if _, err := ss.Write([]byte("answer")); err != nil {
			t.Fatal(err)
		}
		ss.Close()
		got, err = io.ReadAll(cs)
		if err != nil || string(got) != "answer" {
			t.Fatalf("client read %q, %v after its Close", got, err)
		}
	}},
	{"cancel write resets the peer's reads and keeps ours", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		if _, err := cs.Write(randomBytes(100 << 10)); err != nil {
			t.Fatal(err)
		}
		cs.CancelWrite(0x42)
		wantStreamError(t, "server read", readUntilError(t, ss), 0x42, true)
		_, err := cs.Write([]byte("more"))
		wantStreamError(t, "client write after cancel", err, 0x42, false)
		waitDone(t, "client stream after CancelWrite", cs.Context())
		ss.Write([]byte("still answering"))
		ss.Close()
		got, err := io.ReadAll(cs)
		if err != nil || string(got) != "still answering" {
			t.Fatalf("client read %q, %v after its CancelWrite", got, err)
		}
	}},
	{"cancel write wakes a blocked read", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		errc := make(chan error, 1)
		go func() { errc <- readUntilError(t, ss) }()
		time.Sleep(50 * time.Millisecond)
		cs.CancelWrite(0x43)
		wantStreamError(t, "blocked server read", <-errc, 0x43, true)
	}},
	{"cancel read fails the peer's writes, pending and later", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		if _, err := ss.Write([]byte("already sent")); err != nil {
			t.Fatal(err)
		}
		ss.Close()
		errc := make(chan error, 1)
		go func() { errc <- writeUntilError(t, cs) }() // blocks when the window is full
		time.Sleep(100 * time.Millisecond)
		ss.CancelRead(0x44)
		wantStreamError(t, "client write", <-errc, 0x44, true)
		_, err := cs.Write([]byte("x"))
		wantStreamError(t, "client write later", err, 0x44, true)
		waitDone(t, "client stream after peer's CancelRead", cs.Context())
		got, err := io.ReadAll(cs)
		if err != nil || string(got) != "already sent" {
			t.Fatalf("client read %q, %v; want what the server sent before", got, err)
		}
		_, err = ss.Read(make([]byte, 1))
		wantStreamError(t, "server read after its CancelRead", err, 0x44, false)
	}},
	{"abort resets both directions", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		wire.Abort(ss, 0x45)
		wantStreamError(t, "client read", readUntilError(t, cs), 0x45, true)
		wantStreamError(t, "client write", writeUntilError(t, cs), 0x45, true)
		waitDone(t, "server stream after Abort", ss.Context())
	}},
	{"deadlines", opts{}, func(t *testing.T, p pair) {
		cs, _ := open(t, p)
		cs.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := cs.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || wire.ResetCode(err) != wire.CodeTimeout {
			t.Fatalf("read past deadline: %v", err)
		}
		cs.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 1<<20)
		for err = nil; err == nil; {
			_, err = cs.Write(buf) // the server does not read: the window fills
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write past deadline: %v", err)
		}
		cs.SetReadDeadline(time.Time{})
	}},
	{"close with error tells the peer code and reason", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		acc := make(chan error, 1)
		go func() { _, err := p.client.AcceptStream(context.Background()); acc <- err }()
		rd := make(chan error, 1)
		go func() { rd <- readUntilError(t, cs) }()
		time.Sleep(50 * time.Millisecond)
		p.server.CloseWithError(7, "revoked: the office closed")
		for what, err := range map[string]error{"accept": <-acc, "read": <-rd} {
			var ae *quic.ApplicationError
			if !errors.As(err, &ae) || !ae.Remote || ae.ErrorCode != 7 || ae.ErrorMessage != "revoked: the office closed" {
				t.Fatalf("client %s: %v (%T)", what, err, err)
			}
			if !wire.ConnectionLost(err) {
				t.Fatalf("client %s: not a lost connection: %v", what, err)
			}
		}
		waitDone(t, "client connection", p.client.Context())
		var ae *quic.ApplicationError
		if !errors.As(context.Cause(p.client.Context()), &ae) || ae.ErrorCode != 7 {
			t.Fatalf("client connection cause: %v", context.Cause(p.client.Context()))
		}
		waitDone(t, "client stream", cs.Context())
		_, err := ss.Write([]byte("x"))
		if !errors.As(err, &ae) || ae.Remote {
			t.Fatalf("server write after its close: %v", err)
		}
	}},
	{"a lost path is a lost connection", opts{fastLoss: true, viaPath: true}, func(t *testing.T, p pair) {
		cs, _ := open(t, p)
		p.path.BlockUDP(true)
		p.path.BlockTCP(true)
		err := readUntilError(t, cs)
		if !wire.ConnectionLost(err) || wire.ResetCode(err) != wire.CodeTunnelLost {
			t.Fatalf("read on a cut path: %v (%T)", err, err)
		}
		waitDone(t, "client connection", p.client.Context())
	}},
	{"a closed path is a lost connection", opts{fastLoss: true, viaPath: true}, func(t *testing.T, p pair) {
		cs, _ := open(t, p)
		p.path.Close()
		err := readUntilError(t, cs)
		if !wire.ConnectionLost(err) {
			t.Fatalf("read on a closed path: %v (%T)", err, err)
		}
	}},
	{"connection facts", opts{}, func(t *testing.T, p pair) {
		for _, c := range []transport.Conn{p.client, p.server} {
			st := c.TLS()
			if st.NegotiatedProtocol != testALPN || len(st.PeerCertificates) != 1 || st.Version != tls.VersionTLS13 {
				t.Fatalf("TLS state: alpn %q, %d peer certificates, version %x", st.NegotiatedProtocol, len(st.PeerCertificates), st.Version)
			}
			if c.RemoteAddr() == nil {
				t.Fatal("no remote address")
			}
		}
		cs, ss := open(t, p)
		go io.Copy(ss, ss)
		deadline := time.Now().Add(10 * time.Second)
		for p.client.RTT() <= 0 && time.Now().Before(deadline) {
			cs.Write([]byte("ping"))
			io.ReadFull(cs, make([]byte, 4))
			time.Sleep(10 * time.Millisecond)
		}
		if p.client.RTT() <= 0 {
			t.Fatal("no RTT measured")
		}
	}},
	{"many concurrent streams", opts{}, func(t *testing.T, p pair) {
		go func() {
			for {
				s, err := p.server.AcceptStream(context.Background())
				if err != nil {
					return
				}
				go func() { io.Copy(s, s); s.Close() }()
			}
		}()
		var wg sync.WaitGroup
		errc := make(chan error, 300)
		for i := range 300 {
			wg.Go(func() {
				s, err := p.client.OpenStreamSync(context.Background())
				if err != nil {
					errc <- err
					return
				}
				body := randomBytes(1000 + i*100)
				go func() { s.Write(body); s.Close() }()
				s.SetReadDeadline(time.Now().Add(30 * time.Second))
				got, err := io.ReadAll(s)
				if err == nil && !bytes.Equal(got, body) {
					err = errors.New("echo differs")
				}
				if err != nil {
					errc <- err
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	}},
	{"64 MiB byte-exact with backpressure", opts{}, func(t *testing.T, p pair) {
		cs, ss := open(t, p)
		const size = 64 << 20
		want := sha256.New()
		go func() {
			r := mrand.NewChaCha8([32]byte{1})
			buf := make([]byte, 256<<10)
			for n := 0; n < size; n += len(buf) {
				r.Read(buf)
				want.Write(buf)
				if _, err := cs.Write(buf); err != nil {
					return
				}
			}
			cs.Close()
		}()
		got := sha256.New()
		slow := make([]byte, 64<<10)
		n, err := io.CopyBuffer(got, io.LimitReader(ss, 1<<20), slow) // a slow start: the writer must wait
		time.Sleep(100 * time.Millisecond)
		m, err2 := io.Copy(got, ss)
		if err != nil || err2 != nil || n+m != size {
			t.Fatalf("read %d bytes: %v %v", n+m, err, err2)
		}
		if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Fatal("64 MiB arrived different")
		}
	}},
}

func TestConformance(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, tr.dial(t, c.opts))
				})
			}
		})
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
