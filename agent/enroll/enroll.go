// Package enroll is the appliance's side of enrollment: with a one-time
// token from ops it proves nothing yet but possession of the token, sends a
// certificate request for its key, and gets back its identity, its first
// certificate and the trust it pins from then on (the exchange CA and the
// ops keys that sign policy).
package enroll

import (
	"bufio"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Error is the exchange's refusal, with its stable code (token_used,
// token_expired, token_invalid, token_wrong_exchange, bad_request, …).
type Error = wire.Error

// ErrPinMismatch means the exchange at the address is not the one the
// token was made for: its CA differs from the token's pin.
var ErrPinMismatch = errors.New("the exchange's certificate does not match the token's pin: the address is wrong, or someone is in between")

// ErrOpsKeysMismatch means the exchange answered with other ops keys (or
// another threshold) than those whose fingerprint the token carries. The
// appliance would pin them and accept policy signed with them, so the
// answer is refused and nothing is saved: the exchange is impersonated or
// compromised, or the ops keys changed since the token was made.
var ErrOpsKeysMismatch = errors.New("the exchange handed other ops keys than the token names: it may be impersonated or compromised, " +
	"so nothing was saved; ask central ops for a new token and tell them the exchange answered with other ops keys")

// Enroll runs enrollment with a software key, for exchanges that allow
// appliances without a TPM.
func Enroll(ctx context.Context, addr, token, name string, key *keys.Key) (*wire.Enrolled, error) {
	tok, err := wire.ParseToken(token)
	if err != nil {
		return nil, err
	}
	csr, err := key.CSR(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := open(ctx, addr, tok.Pin)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.send(wire.FrameEnroll, wire.Enroll{Token: tok.String(), Name: name, CSR: csr}); err != nil {
		return nil, err
	}
	resp, err := c.enrolled(nil)
	if err != nil {
		return nil, err
	}
	if err := check(resp, tok, key.Signer.Public()); err != nil {
		return nil, err
	}
	return resp, nil
}

// TPMResult is what a TPM enrollment leaves to store: the answer, the
// TPM-resident TLS key and the attestation key.
type TPMResult struct {
	Enrolled *wire.Enrolled
	TLSKey   *tpm.TLSKey
	AK       *tpm.AK
}

// EnrollTPM runs enrollment with the TPM: it presents the endorsement key
// and a new attestation key, activates the exchange's credential, quotes
// the boot state and makes the TLS key inside the TPM, certified by the AK.
func EnrollTPM(ctx context.Context, addr, token, name string, t *tpm.TPM) (*TPMResult, error) {
	tok, err := wire.ParseToken(token)
	if err != nil {
		return nil, err
	}
	ek, err := t.EndorsementKey()
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	ak, err := t.NewAK()
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	req := wire.Enroll{Token: tok.String(), Name: name, TPM: &wire.EnrollTPM{EKArea: ek.PublicArea, AKArea: ak.Public}}
	if ek.Cert != nil {
		req.TPM.EKCert = ek.Cert.Raw
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := open(ctx, addr, tok.Pin)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.send(wire.FrameEnroll, req); err != nil {
		return nil, err
	}
	var key *tpm.TLSKey
	resp, err := c.enrolled(func(ch *wire.Challenge) (*wire.Proof, error) {
		secret, err := t.ActivateCredential(ak, ek, ch.IDObject, ch.EncSecret)
		if err != nil {
			return nil, fmt.Errorf("enroll: credential activation: %w", err)
		}
		q, err := t.Quote(ak, ch.Nonce, ch.PCRs)
		if err != nil {
			return nil, fmt.Errorf("enroll: quote: %w", err)
		}
		if key, err = t.NewTLSKey(ak, ch.Nonce); err != nil {
			return nil, fmt.Errorf("enroll: TLS key: %w", err)
		}
		signer, err := t.Signer(key.Blob)
		if err != nil {
			return nil, fmt.Errorf("enroll: TLS key: %w", err)
		}
		csr, err := (&keys.Key{Signer: signer}).CSR(name)
		if err != nil {
			return nil, err
		}
		return &wire.Proof{Secret: secret, QuoteAttest: q.Attest, QuoteSignature: q.Signature, PCRValues: q.PCRs,
			KeyArea: key.Public, CertifyAttest: key.CertifyAttest, CertifySignature: key.CertifySignature, CSR: csr}, nil
	})
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("enroll: the exchange did not challenge the TPM")
	}
	signer, err := t.Signer(key.Blob)
	if err != nil {
		return nil, err
	}
	if err := check(resp, tok, signer.Public()); err != nil {
		return nil, err
	}
	return &TPMResult{Enrolled: resp, TLSKey: key, AK: ak}, nil
}

// conn is one enrollment connection with its single stream.
type conn struct {
	qc transport.Conn
	s  transport.Stream
	br *bufio.Reader
}

func open(ctx context.Context, addr, pin string) (*conn, error) {
	tc := &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{wire.ALPNEnroll},
		// The chain is checked against the token's pin below instead of the
		// system roots: the exchange's CA is private to the federation.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { return verifyPinned(raw, pin) },
	}
	qc, err := dial(ctx, addr, tc)
	if err != nil {
		if errors.Is(err, ErrPinMismatch) {
			return nil, ErrPinMismatch
		}
		return nil, err
	}
	s, err := qc.OpenStreamSync(ctx)
	if err != nil {
		qc.CloseWithError(wire.CloseNormal, "")
		return nil, fmt.Errorf("enroll: open stream: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	return &conn{qc: qc, s: s, br: wire.NewReader(s)}, nil
}

// quicAnswer is how long enrollment waits for QUIC's handshake before it
// tries TLS on TCP, as a tunnel does where UDP is blocked.
const quicAnswer = 3 * time.Second

// dial connects over QUIC, or over TCP when QUIC gets no answer.
func dial(ctx context.Context, addr string, tc *tls.Config) (transport.Conn, error) {
	qc, err := transport.DialQUIC(ctx, addr, tc, &quic.Config{HandshakeIdleTimeout: quicAnswer, MaxIdleTimeout: time.Minute})
	if err == nil || !transport.NoAnswer(err) || ctx.Err() != nil {
		if err != nil {
			return nil, fmt.Errorf("enroll: connect to %s (UDP): %w", addr, err)
		}
		return qc, nil
	}
	tcp, terr := transport.DialTCP(ctx, addr, tc, transport.TCPConfig{HandshakeTimeout: 10 * time.Second})
	if terr != nil {
		return nil, fmt.Errorf("enroll: connect to %s: over UDP: %w; over TCP: %w", addr, err, terr)
	}
	return tcp, nil
}

func (c *conn) close() { c.qc.CloseWithError(wire.CloseNormal, "") }

func (c *conn) send(ft wire.FrameType, v any) error {
	if err := wire.WriteJSON(c.s, ft, v); err != nil {
		return fmt.Errorf("enroll: send %s: %w", ft, err)
	}
	return nil
}

// enrolled reads frames until the answer, answering a challenge with
// prove (a software enrollment passes nil and gets none).
func (c *conn) enrolled(prove func(*wire.Challenge) (*wire.Proof, error)) (*wire.Enrolled, error) {
	for {
		ft, payload, err := wire.ReadFrame(c.br, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("enroll: read answer: %w", err)
		}
		switch {
		case ft == wire.FrameChallenge && prove != nil:
			var ch wire.Challenge
			if err := wire.DecodeJSON(ft, payload, &ch); err != nil {
				return nil, fmt.Errorf("enroll: %w", err)
			}
			p, err := prove(&ch)
			if err != nil {
				return nil, err
			}
			if err := c.send(wire.FrameProof, p); err != nil {
				return nil, err
			}
		case ft == wire.FrameEnrolled:
			var resp wire.Enrolled
			if err := wire.DecodeJSON(ft, payload, &resp); err != nil {
				return nil, fmt.Errorf("enroll: %w", err)
			}
			if resp.Error != nil {
				return nil, resp.Error
			}
			return &resp, nil
		default:
			return nil, fmt.Errorf("enroll: %w: %s", wire.ErrUnexpectedFrame, ft)
		}
	}
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

// check accepts the exchange's answer only if it is what the token
// promised: a certificate for this appliance's key from the pinned CA, and
// the ops keys the token names.
func check(resp *wire.Enrolled, tok wire.Token, pub crypto.PublicKey) error {
	if err := checkCert(resp, tok.Pin, pub); err != nil {
		return fmt.Errorf("enroll: the exchange's answer is unusable: %w", err)
	}
	return checkOpsKeys(resp, tok.Ops)
}

func checkCert(resp *wire.Enrolled, pin string, pub crypto.PublicKey) error {
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
	if pk, ok := pub.(eq); !ok || !pk.Equal(leaf.PublicKey) {
		return errors.New("certificate is for another key")
	}
	return nil
}

// checkOpsKeys compares the trust the exchange hands with the fingerprint
// in the token, the only one the appliance may pin.
func checkOpsKeys(resp *wire.Enrolled, want string) error {
	if len(resp.OpsKeys) == 0 {
		return fmt.Errorf("enroll: %w (it handed none)", ErrOpsKeysMismatch)
	}
	t := policy.Trust{Threshold: resp.PolicyThreshold}
	for i, pem := range resp.OpsKeys {
		k, err := policy.ParsePublicKey(pem)
		if err != nil {
			return fmt.Errorf("enroll: %w (its ops key %d is unusable: %v)", ErrOpsKeysMismatch, i+1, err)
		}
		t.Keys = append(t.Keys, k)
	}
	if got := t.Fingerprint(); got != want {
		return fmt.Errorf("enroll: %w (the token names ops keys %s, the exchange handed %d key(s), threshold %d, fingerprint %s)",
			ErrOpsKeysMismatch, want, len(t.Keys), max(t.Threshold, 1), got)
	}
	return nil
}
