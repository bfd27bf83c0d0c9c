package exchange

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// serveEnroll handles one enrollment connection: a token and, for a TPM
// appliance, a credential-activation challenge and its proof; then a
// certificate and the trust to pin.
func (x *Exchange) serveEnroll(ctx context.Context, conn transport.Conn) {
	defer conn.CloseWithError(wire.CloseNormal, "")
	log := x.log.With("subsys", "enroll", "remote", conn.RemoteAddr().String())
	if n := x.enrolling.Add(1); n > int64(x.cfg.Limits.Enrollments) {
		x.enrolling.Add(-1)
		x.metrics.limited.WithLabelValues("enrollments").Inc()
		log.Warn("too many enrollments at once; refusing one", "limit", x.cfg.Limits.Enrollments)
		conn.CloseWithError(wire.CloseBusy, "too many enrollments at once; try again in a minute")
		return
	}
	defer x.enrolling.Add(-1)
	// Before the token is read nothing is authenticated: the stream and the
	// request must come at once. A real TPM then takes seconds for each step.
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	actx, acancel := context.WithTimeout(sctx, 10*time.Second)
	s, err := conn.AcceptStream(actx)
	acancel()
	if err != nil {
		return
	}
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	br := wire.NewReader(s)
	var req wire.Enroll
	err = readJSON(br, wire.FrameEnroll, &req)
	_ = s.SetDeadline(time.Now().Add(90 * time.Second))
	if err != nil {
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
	select {
	case <-conn.Context().Done():
	case <-sctx.Done():
	}
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

// enroll runs one enrollment: the token, then the key (a software key's
// request, or a TPM's proof and boot state), then the registration that
// spends the token. Every refusal carries one of the documented codes.
func (x *Exchange) enroll(w io.Writer, br *bufio.Reader, req *wire.Enroll) *wire.Enrolled {
	now := time.Now()
	tok, st, err := x.enrollToken(req, now)
	if err != nil {
		return enrollFailure(err)
	}
	key, err := x.enrollKey(w, br, req, st)
	if err != nil {
		return enrollFailure(err)
	}
	resp, err := x.register(tok, req.Name, key, now)
	if err != nil {
		return enrollFailure(err)
	}
	return resp
}

// enrollFailure turns a refusal into the answer with its code.
func enrollFailure(err error) *wire.Enrolled {
	fail := func(code string) *wire.Enrolled {
		return &wire.Enrolled{Error: &wire.Error{Code: code, Detail: err.Error(), Hop: "exchange"}}
	}
	var ee *enrollError
	switch {
	case errors.As(err, &ee):
		return &wire.Enrolled{Error: &wire.Error{Code: ee.code, Detail: ee.detail, Hop: "exchange"}}
	case errors.Is(err, store.ErrTokenUnknown), errors.Is(err, ErrTokenSecret):
		return fail("token_invalid")
	case errors.Is(err, store.ErrTokenUsed):
		return fail("token_used")
	case errors.Is(err, ErrTokenExpired):
		return fail("token_expired")
	case errors.Is(err, store.ErrApplianceExists):
		return fail("appliance_exists")
	case errors.Is(err, store.ErrDenied):
		return fail("key_revoked")
	case errors.Is(err, ErrReplaceNeedsTPM):
		return fail("attestation_required")
	case errors.Is(err, ErrTokenName), errors.Is(err, ident.ErrInvalid):
		return fail("bad_request")
	}
	return fail("internal")
}

// enrollToken checks the token before any TPM work, without spending it:
// its shape, that this exchange made it, its secret, expiry, name and use.
func (x *Exchange) enrollToken(req *wire.Enroll, now time.Time) (wire.Token, *store.Token, error) {
	tok, err := wire.ParseToken(req.Token)
	if err != nil {
		return tok, nil, &enrollError{"token_malformed", err.Error()}
	}
	if tok.Pin != x.ca.Pin() {
		return tok, nil, &enrollError{"token_wrong_exchange", "This token was made by another exchange (its CA pin differs)."}
	}
	if tok.Ops != x.OpsFingerprint() {
		return tok, nil, errWrongOpsKeys
	}
	st, err := x.store.Token(tok.ID)
	if err == nil {
		err = checkSecret(st, tok.Secret, req.Name, now)
	}
	if err == nil && !st.UsedAt.IsZero() {
		err = fmt.Errorf("%w: used by %s", store.ErrTokenUsed, st.UsedBy)
	}
	return tok, st, err
}

// errWrongOpsKeys refuses a token that names other ops keys than the
// exchange would hand the appliance: the appliance would refuse them, so
// the token is not spent and nothing is registered.
var errWrongOpsKeys = &enrollError{"token_wrong_ops_keys", "This token names other ops keys than the ones this exchange hands new appliances: " +
	"the ops keys were changed (or rotated by a policy) since the token was made, or the token was made for another federation. Ask central ops for a new token."}

// enrolledKey is what an appliance proved at enrollment: the key to
// certify and, with a TPM, the TPM's identity and the boot state.
type enrolledKey struct {
	csr    *x509.CertificateRequest
	hash   string // keyHash of the key
	tpm    bool
	ekHash string
	akArea []byte
	pcrSel []int
	pcrs   map[int][]byte
}

// fill records the key in a registry entry; the boot state at enrollment
// is the baseline (see carryOver for a replacement).
func (k *enrolledKey) fill(a *store.Appliance) {
	a.KeyHash, a.KeyKind = k.hash, "software"
	if k.tpm {
		a.KeyKind, a.EKHash, a.AKArea, a.PCRs, a.Baseline = "tpm", k.ekHash, k.akArea, k.pcrSel, k.pcrs
	}
}

// enrollKey checks the key to certify: a software key's own request where
// the exchange allows them, or a TPM's proof (credential activation, boot
// state quote, certification of the TLS key).
func (x *Exchange) enrollKey(w io.Writer, br *bufio.Reader, req *wire.Enroll, st *store.Token) (*enrolledKey, error) {
	k := &enrolledKey{}
	if req.TPM == nil {
		if !x.cfg.Attestation.AllowSoftwareKeys {
			return nil, &enrollError{"attestation_required", "This exchange enrolls only appliances with a TPM: set tpm.device in bab.yaml (see firmware-notes/)."}
		}
		csr, err := x509.ParseCertificateRequest(req.CSR)
		if err == nil {
			err = csr.CheckSignature()
		}
		if err != nil {
			return nil, &enrollError{"bad_request", fmt.Sprintf("The certificate request is invalid: %v.", err)}
		}
		k.csr = csr
	} else {
		var err error
		if k.ekHash, err = x.trustEK(req.TPM, st); err != nil {
			return nil, err
		}
		ch, secret, ak, err := x.challenge(req.TPM)
		if err != nil {
			return nil, err
		}
		if err := wire.WriteJSON(w, wire.FrameChallenge, ch); err != nil {
			return nil, fmt.Errorf("send challenge: %w", err)
		}
		var proof wire.Proof
		if err := readJSON(br, wire.FrameProof, &proof); err != nil {
			return nil, &enrollError{"bad_request", "No valid answer to the challenge: " + err.Error()}
		}
		if k.pcrs, k.csr, err = checkProof(ch, secret, ak, &proof); err != nil {
			return nil, err
		}
		if diff := golden(st.Golden, k.pcrs); len(diff) > 0 {
			return nil, &enrollError{"attestation_failed", fmt.Sprintf("The boot state differs from the golden values ops set for this token in PCR %v: update the firmware or bootloader to the approved version, or ask ops for a token with the right values.", diff)}
		}
		k.tpm, k.akArea, k.pcrSel = true, req.TPM.AKArea, ch.PCRs
	}
	var err error
	if k.hash, err = keyHash(k.csr.PublicKey); err != nil {
		return nil, &enrollError{"bad_request", "The certificate request's key is unusable: " + err.Error()}
	}
	return k, nil
}

// register spends the token and records the appliance in one transaction,
// issuing its first certificate. Over an enrolled name (a token made with
// --replace), the replaced appliance's key and certificates go on the deny
// list, what ops decided about the name carries over, and the replaced
// appliance's tunnels are closed.
func (x *Exchange) register(tok wire.Token, name string, key *enrolledKey, now time.Time) (*wire.Enrolled, error) {
	var id ident.Appliance
	var resp *wire.Enrolled
	var replaced bool
	err := x.store.RedeemToken(tok.ID, now, func(st *store.Token) (string, error) {
		if err := checkSecret(st, tok.Secret, name, now); err != nil {
			return "", err
		}
		m, err := ident.ParseMember(st.Member)
		if err != nil {
			return "", err
		}
		id, err = ident.ParseAppliance(m.String() + ":" + name)
		return id.String(), err
	}, func(st *store.Token, old *store.Appliance) (*store.Appliance, error) {
		if old != nil && old.KeyKind == "tpm" && !key.tpm {
			return nil, ErrReplaceNeedsTPM
		}
		leaf, err := x.ca.IssueClient(key.csr.PublicKey, id.String(), now, x.cfg.CertLifetime)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(leaf)
		if err != nil {
			return nil, err
		}
		trust, trustVersion := x.enrollTrust()
		if trust.Fingerprint() != tok.Ops {
			return nil, errWrongOpsKeys // rotated since the token was checked
		}
		var keys [][]byte
		for _, k := range trust.Keys {
			keys = append(keys, policy.MarshalPublicKey(k))
		}
		resp = &wire.Enrolled{Appliance: id.String(), Chain: [][]byte{leaf}, CA: x.ca.CertDER, OpsKeys: keys, PolicyThreshold: trust.Threshold}
		a := &store.Appliance{ID: id.String(), Member: id.Member.String(), EnrolledAt: now.UTC(),
			CertSerial: certSerial(cert), CertExpiry: cert.NotAfter, TrustVersion: trustVersion}
		key.fill(a)
		if replaced = old != nil; replaced {
			carryOver(a, old, st.Golden, key.pcrs, now)
		}
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	if replaced {
		x.closeReplaced(id, key.hash)
	}
	return resp, nil
}
