// Package enroll is the appliance's side of enrollment: with a one-time
// token from ops it proves nothing yet but possession of the token, sends a
// certificate request for its key, and gets back its identity, its first
// certificate and the trust it pins from then on (the exchange CA and the
// ops keys that sign policy).
package enroll

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/wire"
)

// Error is the exchange's refusal, with its stable code (token_used,
// token_expired, token_invalid, token_wrong_exchange, bad_request, …).
type Error = wire.Error

// ErrPinMismatch means the exchange at the address is not the one the
// token was made for: its CA differs from the token's pin.
var ErrPinMismatch = errors.New("the exchange's certificate does not match the token's pin: the address is wrong, or someone is in between")

// Enroll runs enrollment against the exchange at addr.
func Enroll(ctx context.Context, addr, token, name string, key *keys.Key) (*wire.Enrolled, error) {
	tok, err := wire.ParseToken(token)
	if err != nil {
		return nil, err
	}
	csr, err := key.CSR(name)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{wire.ALPNEnroll},
		// The chain is checked against the token's pin below instead of the
		// system roots: the exchange's CA is private to the federation.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { return verifyPinned(raw, tok.Pin) },
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, tc, &quic.Config{HandshakeIdleTimeout: 10 * time.Second})
	if err != nil {
		if errors.Is(err, ErrPinMismatch) {
			return nil, ErrPinMismatch
		}
		return nil, fmt.Errorf("enroll: connect to %s (UDP): %w", addr, err)
	}
	defer conn.CloseWithError(wire.CloseNormal, "")
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("enroll: open stream: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	if err := wire.WriteJSON(s, wire.FrameEnroll, wire.Enroll{Token: tok.String(), Name: name, CSR: csr}); err != nil {
		return nil, fmt.Errorf("enroll: send request: %w", err)
	}
	_ = s.Close()
	ft, payload, err := wire.ReadFrame(wire.NewReader(s), 1<<20)
	if err != nil {
		return nil, fmt.Errorf("enroll: read answer: %w", err)
	}
	if ft != wire.FrameEnrolled {
		return nil, fmt.Errorf("enroll: %w: %s", wire.ErrUnexpectedFrame, ft)
	}
	var resp wire.Enrolled
	if err := wire.DecodeJSON(ft, payload, &resp); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	if err := check(&resp, tok.Pin, key); err != nil {
		return nil, fmt.Errorf("enroll: the exchange's answer is unusable: %w", err)
	}
	return &resp, nil
}

// verifyPinned accepts the server chain if it carries a CA whose key hash
// is the pin and the leaf is a server certificate issued by that CA.
func verifyPinned(raw [][]byte, pin string) error {
	if len(raw) < 2 {
		return ErrPinMismatch
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return err
	}
	for _, r := range raw[1:] {
		c, err := x509.ParseCertificate(r)
		if err != nil || !c.IsCA || wire.Pin(c) != pin {
			continue
		}
		pool := x509.NewCertPool()
		pool.AddCert(c)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return fmt.Errorf("%w: %v", ErrPinMismatch, err)
		}
		return nil
	}
	return ErrPinMismatch
}

func check(resp *wire.Enrolled, pin string, key *keys.Key) error {
	ca, err := x509.ParseCertificate(resp.CA)
	if err != nil {
		return fmt.Errorf("CA certificate: %w", err)
	}
	if wire.Pin(ca) != pin {
		return ErrPinMismatch
	}
	if len(resp.Chain) == 0 {
		return errors.New("no certificate")
	}
	leaf, err := x509.ParseCertificate(resp.Chain[0])
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("certificate not issued by the pinned CA: %w", err)
	}
	type eq interface{ Equal(x crypto.PublicKey) bool }
	if pk, ok := key.Signer.Public().(eq); !ok || !pk.Equal(leaf.PublicKey) {
		return errors.New("certificate is for another key")
	}
	if len(resp.OpsKeys) == 0 {
		return errors.New("no ops keys to pin")
	}
	return nil
}
