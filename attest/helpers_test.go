package attest_test

import (
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/internal/swtpm"
)

// quotedPCRs is the selection these tests quote: firmware, Secure Boot
// state and the resettable debug PCR.
var quotedPCRs = []int{0, 2, 4, 7, 16}

// openSim starts a software TPM and opens it through agent/tpm.
func openSim(t *testing.T) (*swtpm.Sim, *tpm.TPM) {
	t.Helper()
	sim := swtpm.StartT(t)
	return sim, openSpec(t, sim.Spec)
}

// openSpec opens a TPM and closes it when the test ends.
func openSpec(t *testing.T, spec string) *tpm.TPM {
	t.Helper()
	tp, err := tpm.Open(spec)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec, err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

// nonce returns n random bytes, as the exchange would send.
func nonce(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// vendorPool trusts sim's manufacturer CA.
func vendorPool(t *testing.T, sim *swtpm.Sim) *x509.CertPool {
	t.Helper()
	ca, err := sim.ManufacturerCA()
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(ca)
	return p
}

// newAK creates an AK and parses it as the exchange would.
func newAK(t *testing.T, tp *tpm.TPM) (*tpm.AK, *attest.AKPublic) {
	t.Helper()
	ak, err := tp.NewAK()
	if err != nil {
		t.Fatalf("NewAK: %v", err)
	}
	pub, err := attest.ParseAK(ak.Public)
	if err != nil {
		t.Fatalf("ParseAK: %v", err)
	}
	return ak, pub
}

// quote quotes quotedPCRs with nonce n and verifies the quote.
func quote(t *testing.T, tp *tpm.TPM, ak *tpm.AK, akPub *attest.AKPublic, n []byte) map[int][]byte {
	t.Helper()
	q, err := tp.Quote(ak, n, quotedPCRs)
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	values, err := attest.VerifyQuote(akPub, toAttest(q), n, quotedPCRs)
	if err != nil {
		t.Fatalf("VerifyQuote: %v", err)
	}
	return values
}

// toAttest is the appliance's quote as the exchange receives it.
func toAttest(q *tpm.Quote) attest.Quote {
	return attest.Quote{Attest: q.Attest, Signature: q.Signature, PCRs: q.PCRs}
}
