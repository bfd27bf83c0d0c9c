package e2e

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/swtpm"
	"github.com/babgate/bab/wire"
)

// An attacker holds a genuine TPM (whose EK the exchange trusts) but wants
// an attestation key of its choosing, here one from another TPM, accepted
// with it. The credential can only be opened by the EK's TPM for an AK
// loaded in that same TPM, so the attacker cannot answer, and the exchange
// refuses without spending the token.
func TestEnrollmentWithSubstitutedAKRefused(t *testing.T) {
	l := newLab(t, lab.Options{})
	needTPMs(t, l)
	genuine, err := tpm.Open(l.Consumer.TPM.Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer genuine.Close()
	ek, err := genuine.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := tpm.Open(swtpm.StartT(t).Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreignAK, err := other.NewAK()
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := l.CreateToken(lab.Commune, "")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, l.Exchange.Addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{wire.ALPNEnroll}}, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.SetDeadline(time.Now().Add(30 * time.Second))
	req := wire.Enroll{Token: tok, Name: "mallory", TPM: &wire.EnrollTPM{EKCert: ek.Cert.Raw, EKArea: ek.PublicArea, AKArea: foreignAK.Public}}
	if err := wire.WriteJSON(s, wire.FrameEnroll, req); err != nil {
		t.Fatal(err)
	}
	br := wire.NewReader(s)
	ft, payload, err := wire.ReadFrame(br, 1<<20)
	if err != nil || ft != wire.FrameChallenge {
		t.Fatalf("expected a challenge: %v %v %s", ft, err, payload)
	}
	var ch wire.Challenge
	_ = json.Unmarshal(payload, &ch)
	// Neither TPM can open the credential for this pairing.
	if _, err := genuine.ActivateCredential(foreignAK, ek, ch.IDObject, ch.EncSecret); err == nil {
		t.Fatal("the genuine TPM activated a credential for a foreign AK")
	}
	if otherEK, err := other.EndorsementKey(); err == nil {
		if _, err := other.ActivateCredential(foreignAK, otherEK, ch.IDObject, ch.EncSecret); err == nil {
			t.Fatal("another TPM activated a credential made for the genuine EK")
		}
	}
	// So the attacker can only guess.
	guess := make([]byte, 32)
	_, _ = rand.Read(guess)
	if err := wire.WriteJSON(s, wire.FrameProof, wire.Proof{Secret: guess}); err != nil {
		t.Fatal(err)
	}
	ft, payload, err = wire.ReadFrame(br, 1<<20)
	if err != nil || ft != wire.FrameEnrolled {
		t.Fatalf("expected an answer: %v %v", ft, err)
	}
	var resp wire.Enrolled
	_ = json.Unmarshal(payload, &resp)
	if resp.Error == nil || resp.Error.Code != "attestation_failed" || len(resp.Chain) != 0 {
		t.Fatalf("substituted AK: %+v", resp)
	}
	// The token was not spent by the failed attempt.
	if out, err := enrollFresh(t, l, t.TempDir(), tok, "honest"); err != nil {
		t.Fatalf("the token after the refused attempt: %v\n%s", err, out)
	}
}

// A compromised appliance answers a check with an old quote made while
// its boot state was good. The nonce gives it away and the exchange
// quarantines it.
func TestReplayedQuoteQuarantines(t *testing.T) {
	l := newLab(t, lab.Options{AttestEvery: time.Second})
	needTPMs(t, l)
	hq := lab.CommuneHQ.String()
	waitAttestation(t, l, hq, "ok")
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	h := holdIdentity(t, l.Consumer)
	id, tp := h.id, h.tpm
	ak := &tpm.AK{Public: id.AKArea, Blob: id.AKBlob}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, l.Exchange.Addr, h.tls, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = ctrl.SetDeadline(time.Now().Add(30 * time.Second))
	if err := wire.WriteJSON(ctrl, wire.FrameHello, wire.Hello{Appliance: id.Appliance, Software: "test"}); err != nil {
		t.Fatal(err)
	}
	br := wire.NewReader(ctrl)
	next := func(want wire.FrameType) []byte {
		t.Helper()
		for {
			ft, payload, err := wire.ReadFrame(br, 0)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			if ft == want {
				return payload
			}
		}
	}
	next(wire.FrameWelcome)
	// First check: an honest quote.
	var at wire.Attest
	_ = json.Unmarshal(next(wire.FrameAttest), &at)
	q, err := tp.Quote(ak, at.Nonce, at.PCRs)
	if err != nil {
		t.Fatal(err)
	}
	honest := wire.Quote{Nonce: at.Nonce, Attest: q.Attest, Signature: q.Signature, PCRValues: q.PCRs}
	if err := wire.WriteJSON(ctrl, wire.FrameQuote, honest); err != nil {
		t.Fatal(err)
	}
	var v wire.Attested
	_ = json.Unmarshal(next(wire.FrameAttested), &v)
	if v.Quarantined {
		t.Fatalf("honest quote: %+v", v)
	}
	// Next check: the same quote again, relabelled with the new nonce.
	_ = json.Unmarshal(next(wire.FrameAttest), &at)
	replay := honest
	replay.Nonce = at.Nonce
	if err := wire.WriteJSON(ctrl, wire.FrameQuote, replay); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(next(wire.FrameAttested), &v)
	if !v.Quarantined || !strings.Contains(v.Reason, "nonce") {
		t.Fatalf("replayed quote: %+v", v)
	}
	if d := attestation(t, l, hq); d.Attestation != "quarantined" {
		t.Fatalf("registry after the replay: %s", d.Attestation)
	}
}
