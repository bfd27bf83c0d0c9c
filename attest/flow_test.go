package attest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/attest"
)

// TestEnrollmentFlow runs enrollment end to end against a software TPM,
// with the exchange's checks from this package, and logs how long each
// TPM step takes.
func TestEnrollmentFlow(t *testing.T) {
	t.Parallel()
	sim, tp := openSim(t)

	start := time.Now()
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatalf("EndorsementKey: %v", err)
	}
	t.Logf("timing: EK creation + certificate read %v", time.Since(start))
	if ek.Cert == nil {
		t.Fatal("EndorsementKey: no certificate, want the one the software TPM was manufactured with")
	}
	if ek.Kind != "rsa" {
		t.Errorf("EK kind = %q, want rsa", ek.Kind)
	}
	if len(ek.Cert.UnhandledCriticalExtensions) == 0 {
		t.Error("the EK certificate has no unhandled critical extension; the subjectAltName handling is untested")
	}
	if err := attest.VerifyEKCert(ek.Cert, vendorPool(t, sim), nil, time.Now()); err != nil {
		t.Fatalf("VerifyEKCert: %v", err)
	}
	root, err := sim.ManufacturerRoot()
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := sim.ManufacturerCA()
	if err != nil {
		t.Fatal(err)
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	intermediates.AddCert(issuer)
	if err := attest.VerifyEKCert(ek.Cert, roots, intermediates, time.Now()); err != nil {
		t.Fatalf("VerifyEKCert with the vendor root and its issuing CA as intermediate: %v", err)
	}
	if err := attest.CheckEKCertKey(ek.PublicArea, ek.Cert); err != nil {
		t.Fatalf("CheckEKCertKey: %v", err)
	}

	start = time.Now()
	ak, akPub := newAK(t, tp)
	t.Logf("timing: AK creation %v", time.Since(start))

	secret := nonce(t, 32)
	idObject, encSecret, err := attest.MakeCredential(ek.PublicArea, akPub.Name, secret)
	if err != nil {
		t.Fatalf("MakeCredential: %v", err)
	}
	start = time.Now()
	got, err := tp.ActivateCredential(ak, ek, idObject, encSecret)
	if err != nil {
		t.Fatalf("ActivateCredential: %v", err)
	}
	t.Logf("timing: credential activation %v", time.Since(start))
	if !bytes.Equal(got, secret) {
		t.Fatalf("ActivateCredential = %x, want %x", got, secret)
	}

	n := nonce(t, 32)
	start = time.Now()
	values := quote(t, tp, ak, akPub, n)
	t.Logf("timing: quote of %d PCRs + verify %v", len(quotedPCRs), time.Since(start))
	if len(values) != len(quotedPCRs) {
		t.Errorf("VerifyQuote returned %d values, want %d", len(values), len(quotedPCRs))
	}

	n = nonce(t, 32)
	start = time.Now()
	key, err := tp.NewTLSKey(ak, n)
	if err != nil {
		t.Fatalf("NewTLSKey: %v", err)
	}
	certified, err := attest.VerifyCertify(akPub, key.Public, key.CertifyAttest, key.CertifySignature, n)
	if err != nil {
		t.Fatalf("VerifyCertify: %v", err)
	}
	t.Logf("timing: TLS key creation + certify + verify %v", time.Since(start))

	signer, err := tp.Signer(key.Blob)
	if err != nil {
		t.Fatalf("Signer: %v", err)
	}
	if !certified.Equal(signer.Public()) {
		t.Fatal("the signer's public key is not the certified key")
	}
	handshake(t, signer, certified)
	signRate(t, signer)
}

// timedSigner records how long each signature takes.
type timedSigner struct {
	crypto.Signer
	mu    sync.Mutex
	times []time.Duration
}

func (s *timedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	start := time.Now()
	sig, err := s.Signer.Sign(r, digest, opts)
	s.mu.Lock()
	s.times = append(s.times, time.Since(start))
	s.mu.Unlock()
	return sig, err
}

// handshake completes a TLS 1.3 handshake whose server signs with the
// TPM key; the client accepts only the certified key.
func handshake(t *testing.T, signer crypto.Signer, certified *ecdsa.PublicKey) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "appliance.test"},
		DNSNames:     []string{"appliance.test"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatalf("self-sign with the TPM key: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	ts := &timedSigner{Signer: signer}
	server := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: ts, Leaf: leaf}},
	}
	client := &tls.Config{
		MinVersion: tls.VersionTLS13,
		RootCAs:    roots,
		ServerName: "appliance.test",
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			c, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			if !certified.Equal(c.PublicKey) {
				return errors.New("server key is not the TPM-certified key")
			}
			return nil
		},
	}
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() {
		s := tls.Server(sc, server)
		err := s.HandshakeContext(ctx)
		if err == nil {
			_, err = s.Write([]byte("hello"))
		}
		srvErr <- err
	}()
	start := time.Now()
	c := tls.Client(cc, client)
	if err := c.HandshakeContext(ctx); err != nil {
		t.Fatalf("client handshake: %v (server: %v)", err, <-srvErr)
	}
	elapsed := time.Since(start)
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read over TLS = %q, %v", buf, err)
	}
	if err := <-srvErr; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version = %x, want TLS 1.3", v)
	}
	if len(ts.times) != 1 {
		t.Fatalf("the TPM key signed %d times in the handshake, want 1", len(ts.times))
	}
	t.Logf("timing: TLS 1.3 handshake over a pipe %v, of which the TPM signature %v", elapsed, ts.times[0])
}

// signRate logs how many signatures per second the TPM key sustains, and
// checks them.
func signRate(t *testing.T, signer crypto.Signer) {
	t.Helper()
	pub := signer.Public().(*ecdsa.PublicKey)
	n := 0
	start := time.Now()
	for time.Since(start) < time.Second {
		d := sha256.Sum256([]byte(fmt.Sprint(n)))
		sig, err := signer.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("Sign #%d: %v", n, err)
		}
		if !ecdsa.VerifyASN1(pub, d[:], sig) {
			t.Fatalf("signature #%d does not verify", n)
		}
		n++
	}
	elapsed := time.Since(start)
	t.Logf("timing: %d TPM signatures in %v: %.0f/s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}
