package exchange

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/attest/attesttest"
	"github.com/babgate/bab/wire"
)

// FuzzEnrollFrames reads what an enrolling appliance sends on its stream,
// before it holds any certificate: an enroll frame and, for a TPM, the
// proof frame that answers the challenge, which checkProof then checks.
// Reading fails only with io.EOF or the wire package's errors; a refused
// proof carries one of enroll's stable codes; an accepted one gives the
// PCRs the challenge asked for and a certificate request whose signature
// holds.
func FuzzEnrollFrames(f *testing.F) {
	ak, err := attesttest.NewKey(true)
	if err != nil {
		f.Fatal(err)
	}
	tls, err := attesttest.NewKey(false)
	if err != nil {
		f.Fatal(err)
	}
	akPub, err := attest.ParseAK(ak.Area)
	if err != nil {
		f.Fatal(err)
	}
	ch := &wire.Challenge{Nonce: bytes.Repeat([]byte{0x5a}, 32), PCRs: []int{0, 2, 4, 7}}

	// A whole TPM enrollment, as an appliance would send it.
	pcrs := map[int][]byte{}
	for _, p := range ch.PCRs {
		v := sha256.Sum256([]byte{byte(p)})
		pcrs[p] = v[:]
	}
	quote := attesttest.Quote(ch.Nonce, pcrs)
	certify, err := attesttest.Certify(ch.Nonce, tls.Area)
	if err != nil {
		f.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "hq"}}, tls.Private)
	if err != nil {
		f.Fatal(err)
	}
	proof := &wire.Proof{Secret: bytes.Repeat([]byte{0xc3}, 32), QuoteAttest: quote, QuoteSignature: ak.Sign(quote), PCRValues: pcrs,
		KeyArea: tls.Area, CertifyAttest: certify, CertifySignature: ak.Sign(certify), CSR: csr}
	if _, _, err := checkProof(ch, proof.Secret, akPub, proof); err != nil {
		f.Fatalf("seed proof: %v", err) // the fuzzer must start from one that passes
	}
	const token = "0a1b2c3d.AbCdEfGhIjKlMnOpQrStUvWxYz012-_9.q80xjDKnLhR1lbX9B6aBUdMRJLeoB0XCbPd2tZd5Uyc.Zk3x_Qm2-9aLpV7cT0bYwN4eR8sU1oJ6hG5dF2iKqXw"
	tpm := frames(f, wire.FrameEnroll, &wire.Enroll{Token: token, Name: "hq", TPM: &wire.EnrollTPM{EKArea: tls.Area, AKArea: ak.Area}})
	f.Add(append(tpm, frames(f, wire.FrameProof, proof)...))
	f.Add(frames(f, wire.FrameEnroll, &wire.Enroll{Token: token, Name: "hq", CSR: csr}))
	f.Add(append(tpm, frames(f, wire.FrameProof, &wire.Proof{Secret: []byte{1}})...))
	f.Add(append(tpm, frames(f, wire.FrameEnroll, &wire.Enroll{})...))
	f.Add(frames(f, wire.FrameHello, &wire.Hello{Appliance: "MA/MUN/RABAT:hq"}))
	f.Add(tpm[:len(tpm)/2])
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		br := wire.NewReader(bytes.NewReader(data))
		var req wire.Enroll
		if err := readJSON(br, wire.FrameEnroll, &req); err != nil {
			checkReadError(t, err)
			return
		}
		if req.TPM == nil {
			return
		}
		var p wire.Proof
		if err := readJSON(br, wire.FrameProof, &p); err != nil {
			checkReadError(t, err)
			return
		}
		// The proof's own secret stands for the one the challenge
		// carried, so that the checks behind credential activation are
		// reached.
		got, csr, err := checkProof(ch, p.Secret, akPub, &p)
		if err != nil {
			var ee *enrollError
			if !errors.As(err, &ee) || ee.code != "attestation_failed" && ee.code != "bad_request" {
				t.Fatalf("checkProof error %v has no enrollment code", err)
			}
			return
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, ch.PCRs) {
			t.Fatalf("checkProof accepted PCRs %v, the challenge asked for %v", keys, ch.PCRs)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("checkProof accepted a certificate request whose signature fails: %v", err)
		}
	})
}

// frames is v written as one frame of type t.
func frames(f *testing.F, t wire.FrameType, v any) []byte {
	f.Helper()
	var buf bytes.Buffer
	if err := wire.WriteJSON(&buf, t, v); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// checkReadError fails unless err is how reading a peer's frame may fail.
func checkReadError(t *testing.T, err error) {
	t.Helper()
	for _, want := range []error{io.EOF, wire.ErrMalformed, wire.ErrFrameTooLarge, wire.ErrUnexpectedFrame} {
		if errors.Is(err, want) {
			return
		}
	}
	t.Fatalf("reading an enrollment frame failed with %v, not one of the wire errors", err)
}
