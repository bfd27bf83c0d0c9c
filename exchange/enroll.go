package exchange

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// serveEnroll handles one enrollment connection: a token and a certificate
// request in, a certificate and the trust to pin out.
func (x *Exchange) serveEnroll(ctx context.Context, conn *quic.Conn) {
	defer conn.CloseWithError(wire.CloseNormal, "")
	log := x.log.With("subsys", "enroll", "remote", conn.RemoteAddr().String())
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := conn.AcceptStream(sctx)
	if err != nil {
		return
	}
	_ = s.SetDeadline(time.Now().Add(15 * time.Second))
	ft, payload, err := wire.ReadFrame(wire.NewReader(s), 1<<20)
	var req wire.Enroll
	if err == nil && ft != wire.FrameEnroll {
		err = fmt.Errorf("%w: %s", wire.ErrUnexpectedFrame, ft)
	}
	if err == nil {
		err = wire.DecodeJSON(ft, payload, &req)
	}
	if err != nil {
		log.Warn("bad enrollment request", "err", err)
		wire.Abort(s, wire.CodeProtocol)
		return
	}
	resp := x.enroll(&req)
	if resp.Error != nil {
		log.Warn("enrollment refused", "name", req.Name, "code", resp.Error.Code, "reason", resp.Error.Detail)
	} else {
		log.Info("appliance enrolled", "appliance", resp.Appliance)
	}
	if err := wire.WriteJSON(s, wire.FrameEnrolled, resp); err != nil {
		log.Warn("send enrollment answer", "err", err)
		return
	}
	_ = s.Close()
	// Wait for the appliance to read the answer and hang up.
	<-sctx.Done()
}

func (x *Exchange) enroll(req *wire.Enroll) *wire.Enrolled {
	fail := func(code, detail string) *wire.Enrolled {
		return &wire.Enrolled{Error: &wire.Error{Code: code, Detail: detail, Hop: "exchange"}}
	}
	tok, err := wire.ParseToken(req.Token)
	if err != nil {
		return fail("token_malformed", err.Error())
	}
	if tok.Pin != x.ca.Pin() {
		return fail("token_wrong_exchange", "This token was made by another exchange (its CA pin differs).")
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		return fail("bad_request", fmt.Sprintf("The certificate request is invalid: %v.", err))
	}
	now := time.Now()
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
		resp = &wire.Enrolled{Appliance: id.String(), Chain: [][]byte{leaf}, CA: x.ca.CertDER, OpsKeys: x.opsPEM, PolicyThreshold: x.trust.Threshold}
		return &store.Appliance{ID: id.String(), Member: id.Member.String(), EnrolledAt: now.UTC(),
			CertSerial: hex.EncodeToString(cert.SerialNumber.Bytes()), CertExpiry: cert.NotAfter}, nil
	})
	switch {
	case err == nil:
		return resp
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
