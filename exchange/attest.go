package exchange

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/wire"
)

// vendorCAs are the TPM makers' CAs from the config, split into the
// self-signed roots and the intermediates between them and EK certificates.
type vendorCAs struct {
	roots, intermediates *x509.CertPool
	count                int
}

func loadVendorCAs(files []string) (*vendorCAs, error) {
	v := &vendorCAs{roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("exchange: TPM vendor CA: %w", err)
		}
		for b, rest := pem.Decode(raw); b != nil; b, rest = pem.Decode(rest) {
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("exchange: TPM vendor CA %s: %w", f, err)
			}
			if c.CheckSignatureFrom(c) == nil {
				v.roots.AddCert(c)
			} else {
				v.intermediates.AddCert(c)
			}
			v.count++
		}
	}
	return v, nil
}

// enrollError is a refusal with a stable code for the appliance.
type enrollError struct{ code, detail string }

func (e *enrollError) Error() string { return e.code + ": " + e.detail }

// trustEK decides whether the presented endorsement key is a genuine TPM
// the exchange may enroll: its maker's certificate chains to a configured
// vendor CA, or ops registered its EK hash with the token.
func (x *Exchange) trustEK(t *wire.EnrollTPM, tok *store.Token) (string, error) {
	pub, err := attest.EKPublicFromArea(t.EKArea)
	if err != nil {
		return "", &enrollError{"bad_request", "The endorsement key is unreadable: " + err.Error()}
	}
	hash := attest.EKHash(pub)
	if tok.EKHash != "" {
		if subtle.ConstantTimeCompare([]byte(hash), []byte(tok.EKHash)) != 1 {
			return "", &enrollError{"ek_untrusted", fmt.Sprintf("This token is for the TPM with EK hash %s; this TPM's is %s.", tok.EKHash, hash)}
		}
		return hash, nil
	}
	if len(t.EKCert) == 0 {
		return "", &enrollError{"ek_untrusted", fmt.Sprintf("The TPM has no EK certificate; ops must register its EK hash (%s) with the token: bab-exchange token create --ek-hash.", hash)}
	}
	cert, err := x509.ParseCertificate(t.EKCert)
	if err == nil {
		err = attest.CheckEKCertKey(t.EKArea, cert)
	}
	if err == nil {
		err = attest.VerifyEKCert(cert, x.vendors.roots, x.vendors.intermediates, time.Now())
	}
	if err != nil {
		return "", &enrollError{"ek_untrusted", fmt.Sprintf("The TPM's EK certificate is not trusted (%v); ops can add its maker's CA to attestation.vendor_cas or register its EK hash (%s) with the token.", err, hash)}
	}
	return hash, nil
}

// challenge makes the credential only the TPM that holds the EK can open
// for this AK, and a fresh nonce.
func (x *Exchange) challenge(t *wire.EnrollTPM) (*wire.Challenge, []byte, *attest.AKPublic, error) {
	ak, err := attest.ParseAK(t.AKArea)
	if err != nil {
		return nil, nil, nil, &enrollError{"bad_request", "The attestation key is not acceptable: " + err.Error()}
	}
	secret, nonce := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(nonce)
	idObject, encSecret, err := attest.MakeCredential(t.EKArea, ak.Name, secret)
	if err != nil {
		return nil, nil, nil, &enrollError{"bad_request", "No credential can be made for this endorsement key: " + err.Error()}
	}
	return &wire.Challenge{IDObject: idObject, EncSecret: encSecret, Nonce: nonce, PCRs: x.cfg.Attestation.PCRs}, secret, ak, nil
}

// checkProof verifies the answer: the AK is in the EK's TPM, the quote is
// fresh and signed by it, and the TLS key was made in that TPM and cannot
// leave it. It returns the boot state to record and the certified key.
func checkProof(ch *wire.Challenge, secret []byte, ak *attest.AKPublic, p *wire.Proof) (map[int][]byte, *x509.CertificateRequest, error) {
	if subtle.ConstantTimeCompare(secret, p.Secret) != 1 {
		return nil, nil, &enrollError{"attestation_failed", "Credential activation failed: the attestation key is not in the TPM that holds the endorsement key."}
	}
	pcrs, err := attest.VerifyQuote(ak, attest.Quote{Attest: p.QuoteAttest, Signature: p.QuoteSignature, PCRs: p.PCRValues}, ch.Nonce, ch.PCRs)
	if err != nil {
		return nil, nil, &enrollError{"attestation_failed", "The boot state quote does not verify: " + err.Error()}
	}
	key, err := attest.VerifyCertify(ak, p.KeyArea, p.CertifyAttest, p.CertifySignature, ch.Nonce)
	if err != nil {
		return nil, nil, &enrollError{"attestation_failed", "The TLS key is not certified as a TPM-resident key: " + err.Error()}
	}
	csr, err := x509.ParseCertificateRequest(p.CSR)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		return nil, nil, &enrollError{"bad_request", "The certificate request is invalid: " + err.Error()}
	}
	if !key.Equal(csr.PublicKey) {
		return nil, nil, &enrollError{"attestation_failed", "The certificate request is not for the certified TPM key."}
	}
	return pcrs, csr, nil
}

// golden lists the PCRs whose enrollment values differ from the golden
// values ops required (a golden PCR the quote lacks counts as differing).
func golden(want, got map[int][]byte) []int {
	var diff []int
	for pcr, v := range want {
		if g, ok := got[pcr]; !ok || string(g) != string(v) {
			diff = append(diff, pcr)
		}
	}
	slices.Sort(diff)
	return diff
}
