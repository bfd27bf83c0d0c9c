package exchange

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// serveEnroll handles one enrollment connection: a token and, for a TPM
// appliance, a credential-activation challenge and its proof; then a
// certificate and the trust to pin.
func (x *Exchange) serveEnroll(ctx context.Context, conn *quic.Conn) {
	defer conn.CloseWithError(wire.CloseNormal, "")
	log := x.log.With("subsys", "enroll", "remote", conn.RemoteAddr().String())
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := conn.AcceptStream(sctx)
	if err != nil {
		return
	}
	// A real TPM can take seconds to create an RSA endorsement key.
	_ = s.SetDeadline(time.Now().Add(90 * time.Second))
	br := wire.NewReader(s)
	var req wire.Enroll
	if err := readJSON(br, wire.FrameEnroll, &req); err != nil {
		log.Warn("bad enrollment request", "err", err)
		x.metrics.enrollments.WithLabelValues("bad_request").Inc()
		wire.Abort(s, wire.CodeProtocol)
		return
	}
	start := time.Now()
	resp := x.enroll(s, br, &req)
	result := "ok"
	if resp.Error != nil {
		result = resp.Error.Code // one of enroll's fixed codes
	}
	x.metrics.enrollments.WithLabelValues(result).Inc()
	if resp.Error != nil {
		log.Warn("enrollment refused", "name", req.Name, "code", resp.Error.Code, "reason", resp.Error.Detail)
	} else {
		log.Info("appliance enrolled", "appliance", resp.Appliance, "tpm", req.TPM != nil, "duration", time.Since(start))
	}
	if err := wire.WriteJSON(s, wire.FrameEnrolled, resp); err != nil {
		log.Warn("send enrollment answer", "err", err)
		return
	}
	_ = s.Close()
	// Wait for the appliance to read the answer and hang up.
	<-sctx.Done()
}

func readJSON(br *bufio.Reader, want wire.FrameType, v any) error {
	ft, payload, err := wire.ReadFrame(br, 1<<20)
	if err != nil {
		return err
	}
	if ft != want {
		return fmt.Errorf("%w: %s instead of %s", wire.ErrUnexpectedFrame, ft, want)
	}
	return wire.DecodeJSON(ft, payload, v)
}

func (x *Exchange) enroll(w io.Writer, br *bufio.Reader, req *wire.Enroll) *wire.Enrolled {
	fail := func(code, detail string) *wire.Enrolled {
		return &wire.Enrolled{Error: &wire.Error{Code: code, Detail: detail, Hop: "exchange"}}
	}
	failErr := func(err error) *wire.Enrolled {
		var ee *enrollError
		switch {
		case errors.As(err, &ee):
			return fail(ee.code, ee.detail)
		case errors.Is(err, store.ErrTokenUnknown), errors.Is(err, ErrTokenSecret):
			return fail("token_invalid", err.Error())
		case errors.Is(err, store.ErrTokenUsed):
			return fail("token_used", err.Error())
		case errors.Is(err, ErrTokenExpired):
			return fail("token_expired", err.Error())
		case errors.Is(err, ErrTokenName), errors.Is(err, ident.ErrInvalid):
			return fail("bad_request", err.Error())
		}
		return fail("internal", err.Error())
	}
	tok, err := wire.ParseToken(req.Token)
	if err != nil {
		return fail("token_malformed", err.Error())
	}
	if tok.Pin != x.ca.Pin() {
		return fail("token_wrong_exchange", "This token was made by another exchange (its CA pin differs).")
	}
	now := time.Now()
	// The token is checked before any TPM work, and spent only at the end.
	st, err := x.store.Token(tok.ID)
	if err == nil {
		err = checkSecret(st, tok.Secret, req.Name, now)
	}
	if err == nil && !st.UsedAt.IsZero() {
		err = fmt.Errorf("%w: used by %s", store.ErrTokenUsed, st.UsedBy)
	}
	if err != nil {
		return failErr(err)
	}

	var csr *x509.CertificateRequest
	record := func(a *store.Appliance) { a.KeyKind = "software" }
	if req.TPM == nil {
		if !x.cfg.Attestation.AllowSoftwareKeys {
			return fail("attestation_required", "This exchange enrolls only appliances with a TPM: set tpm.device in bab.yaml (see firmware-notes/).")
		}
		csr, err = x509.ParseCertificateRequest(req.CSR)
		if err == nil {
			err = csr.CheckSignature()
		}
		if err != nil {
			return fail("bad_request", fmt.Sprintf("The certificate request is invalid: %v.", err))
		}
	} else {
		ekHash, err := x.trustEK(req.TPM, st)
		if err != nil {
			return failErr(err)
		}
		ch, secret, ak, err := x.challenge(req.TPM)
		if err != nil {
			return failErr(err)
		}
		if err := wire.WriteJSON(w, wire.FrameChallenge, ch); err != nil {
			return fail("internal", "send challenge: "+err.Error())
		}
		var proof wire.Proof
		if err := readJSON(br, wire.FrameProof, &proof); err != nil {
			return fail("bad_request", "No valid answer to the challenge: "+err.Error())
		}
		pcrs, c, err := checkProof(ch, secret, ak, &proof)
		if err != nil {
			return failErr(err)
		}
		if diff := golden(st.Golden, pcrs); len(diff) > 0 {
			return fail("attestation_failed", fmt.Sprintf("The boot state differs from the golden values ops set for this token in PCR %v: update the firmware or bootloader to the approved version, or ask ops for a token with the right values.", diff))
		}
		csr = c
		record = func(a *store.Appliance) {
			a.KeyKind, a.EKHash, a.AKArea, a.PCRs, a.Baseline = "tpm", ekHash, req.TPM.AKArea, ch.PCRs, pcrs
		}
	}

	var resp *wire.Enrolled
	var id ident.Appliance
	err = x.store.RedeemToken(tok.ID, now, func(st *store.Token) error {
		if err := checkSecret(st, tok.Secret, req.Name, now); err != nil {
			return err
		}
		m, err := ident.ParseMember(st.Member)
		if err != nil {
			return err
		}
		id, err = ident.ParseAppliance(m.String() + ":" + req.Name)
		return err
	}, func(*store.Token) (*store.Appliance, error) {
		leaf, err := x.ca.IssueClient(csr.PublicKey, id.String(), now, x.cfg.CertLifetime)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(leaf)
		if err != nil {
			return nil, err
		}
		keys, threshold, trustVersion := x.enrollTrust()
		resp = &wire.Enrolled{Appliance: id.String(), Chain: [][]byte{leaf}, CA: x.ca.CertDER, OpsKeys: keys, PolicyThreshold: threshold}
		a := &store.Appliance{ID: id.String(), Member: id.Member.String(), EnrolledAt: now.UTC(),
			CertSerial: hex.EncodeToString(cert.SerialNumber.Bytes()), CertExpiry: cert.NotAfter, TrustVersion: trustVersion}
		record(a)
		return a, nil
	})
	if err != nil {
		return failErr(err)
	}
	return resp
}

// renew issues a fresh certificate for the key the tunnel authenticated
// with; the request must be for that same key.
func (x *Exchange) renew(s *session, cur *x509.Certificate, csrDER []byte) wire.Renewed {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		return wire.Renewed{Error: "invalid certificate request: " + err.Error()}
	}
	if !sameKey(csr.PublicKey, cur.PublicKey) {
		return wire.Renewed{Error: "renewal must be for the key the tunnel uses"}
	}
	now := time.Now()
	leaf, err := x.ca.IssueClient(csr.PublicKey, s.id.String(), now, x.cfg.CertLifetime)
	if err != nil {
		return wire.Renewed{Error: err.Error()}
	}
	cert, _ := x509.ParseCertificate(leaf)
	if reg, err := x.store.Appliance(s.id.String()); err == nil {
		reg.CertSerial = hex.EncodeToString(cert.SerialNumber.Bytes())
		reg.CertExpiry = cert.NotAfter
		if err := x.store.PutAppliance(reg); err != nil {
			return wire.Renewed{Error: err.Error()}
		}
	}
	s.log.Info("certificate renewed", "not_after", cert.NotAfter)
	return wire.Renewed{Chain: [][]byte{leaf}}
}

func sameKey(a, b any) bool {
	type eq interface{ Equal(x crypto.PublicKey) bool }
	ak, ok := a.(eq)
	return ok && ak.Equal(b)
}
