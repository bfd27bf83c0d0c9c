package tunnel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/internal/udpsink"
	"github.com/babgate/bab/wire"
)

func TestSkew(t *testing.T) {
	sent := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		rtt, exchangeLate time.Duration // exchangeLate: how far the exchange's clock is ahead
		want              time.Duration
	}{
		{"in step", 40 * time.Millisecond, 0, 0},
		{"exchange ahead", 40 * time.Millisecond, 3 * time.Second, 3 * time.Second},
		{"exchange behind", 200 * time.Millisecond, -45 * time.Second, -45 * time.Second},
	}
	for _, tc := range tests {
		received := sent.Add(tc.rtt)
		// The exchange reads its clock halfway through the round trip.
		exchange := sent.Add(tc.rtt / 2).Add(tc.exchangeLate)
		skew, within := Skew(sent, received, exchange)
		if skew != tc.want || within != tc.rtt/2 {
			t.Errorf("%s: Skew = %s ±%s, want %s ±%s", tc.name, skew, within, tc.want, tc.rtt/2)
		}
	}
	// The monotonic readings of time.Now are not mixed with the wall
	// clock the exchange's time is on.
	now := time.Now()
	if skew, _ := Skew(now, now, now.Round(0).Add(time.Second)); skew != time.Second {
		t.Errorf("Skew with monotonic readings = %s, want 1s", skew)
	}
}

// pki is a CA with the certificates a probe test needs.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &pki{cert: cert, key: key, pool: pool}
}

func (p *pki) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, p.cert.Raw}, PrivateKey: key}
}

// listen starts a QUIC listener on loopback that, like the exchange,
// requires a client certificate from ca for bab/1; serve handles each
// connection.
func listen(t *testing.T, ca *pki, serve func(*quic.Conn)) string {
	t.Helper()
	ln, err := quic.ListenAddr("127.0.0.1:0", exchangeTLS(t, ca), wire.QUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// exchangeTLS is the exchange's side: a server certificate from ca, and a
// client certificate from ca required for bab/1.
func exchangeTLS(t *testing.T, ca *pki) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{wire.ALPNTunnel},
		Certificates: []tls.Certificate{ca.issue(t, "exchange", x509.ExtKeyUsageServerAuth)},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}
}

func clientTLS(roots *x509.CertPool, cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "127.0.0.1",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }}
}

func TestProbeOutcomes(t *testing.T) {
	exchangeCA, foreignCA := newPKI(t, "exchange CA"), newPKI(t, "another CA")
	ours := exchangeCA.issue(t, "MA/MUN/RABAT:hq", x509.ExtKeyUsageClientAuth)
	foreign := foreignCA.issue(t, "MA/MUN/RABAT:hq", x509.ExtKeyUsageClientAuth)
	// An exchange older than the probe reads a frame that is not a hello
	// and closes the connection, as serveTunnel did.
	old := listen(t, exchangeCA, func(c *quic.Conn) {
		s, err := c.AcceptStream(context.Background())
		if err == nil {
			_, _, _ = wire.ReadFrame(wire.NewReader(s), 64<<10)
		}
		c.CloseWithError(wire.CloseProtocol, "bad hello")
	})
	unenrolled := listen(t, exchangeCA, func(c *quic.Conn) { c.CloseWithError(wire.CloseUnenrolled, "appliance not enrolled at this exchange") })
	revoked := listen(t, exchangeCA, func(c *quic.Conn) {
		c.CloseWithError(wire.CloseRevoked, "revoked by the exchange: revoked by ops on 2026-11-22")
	})

	tests := []struct {
		name string
		addr string
		tc   *tls.Config
		want ProbeOutcome
	}{
		{"older exchange", old, clientTLS(exchangeCA.pool, ours), ProbeNoTime},
		{"certificate from another CA", old, clientTLS(exchangeCA.pool, foreign), ProbeRefused},
		{"unknown appliance", unenrolled, clientTLS(exchangeCA.pool, ours), ProbeRefused},
		{"revoked appliance", revoked, clientTLS(exchangeCA.pool, ours), ProbeRevoked},
		{"not the exchange enrolled with", old, clientTLS(foreignCA.pool, ours), ProbeUntrusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Probe(context.Background(), tc.addr, tc.tc, ProbeTimeout)
			t.Logf("%s: %s", r.Outcome, r.Detail)
			if r.Outcome != tc.want || r.Addr != tc.addr {
				t.Errorf("Probe = %+v, want outcome %s", r, tc.want)
			}
			if r.Detail == "" || !r.ExchangeTime.IsZero() {
				t.Errorf("Probe = %+v: want a detail and no time", r)
			}
		})
	}
}

// TestProbeNoAnswer: a UDP port where something swallows every packet, as
// a firewall that drops them does. The probe gives up within its timeout.
func TestProbeNoAnswer(t *testing.T) {
	pc, err := udpsink.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ca := newPKI(t, "exchange CA")
	timeout := 2 * time.Second
	start := time.Now()
	r := Probe(context.Background(), pc.LocalAddr().String(), clientTLS(ca.pool, ca.issue(t, "x", x509.ExtKeyUsageClientAuth)), timeout)
	if took := time.Since(start); took > timeout+time.Second {
		t.Errorf("the probe took %s, over its %s timeout", took, timeout)
	}
	if r.Outcome != ProbeNoAnswer {
		t.Errorf("Probe = %+v, want %s", r, ProbeNoAnswer)
	}
}
