package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	astore "github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/exchange/ca"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// rogueEnroller answers enrollments as a compromised exchange would: with
// the exchange's real CA, a real certificate for the appliance's key, and
// the ops keys it chooses. It checks no token: a rogue has no reason to.
type rogueEnroller struct {
	*rogueExchange
	ca     *ca.CA
	served chan string // the name of each appliance it answered
	// The trust it hands out, set between cases while an earlier case's
	// connection may still be served.
	mu        sync.Mutex
	opsKeys   [][]byte // PEM
	threshold int
}

func startRogueEnroller(t *testing.T, l *lab.Lab) *rogueEnroller {
	t.Helper()
	rx, c := listenRogue(t, l, wire.ALPNEnroll, tls.NoClientCert)
	r := &rogueEnroller{rogueExchange: rx, ca: c, served: make(chan string, 16)}
	go r.serve()
	return r
}

// hand sets the trust the rogue hands out from now on.
func (r *rogueEnroller) hand(keys []ed25519.PublicKey, threshold int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opsKeys = nil
	for _, k := range keys {
		r.opsKeys = append(r.opsKeys, policy.MarshalPublicKey(k))
	}
	r.threshold = threshold
}

func (r *rogueEnroller) serve() {
	for {
		conn, err := r.ln.Accept(context.Background())
		if err != nil {
			return
		}
		go func() {
			defer conn.CloseWithError(0, "")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := conn.AcceptStream(ctx)
			if err != nil {
				return
			}
			br := wire.NewReader(s)
			var req wire.Enroll
			if ft, payload, err := wire.ReadFrame(br, 1<<20); err != nil || ft != wire.FrameEnroll || wire.DecodeJSON(ft, payload, &req) != nil {
				return
			}
			csrDER := req.CSR
			if req.TPM != nil {
				// Play the TPM challenge honestly: the appliance's TPM
				// activates the credential and certifies its key.
				ak, err := attest.ParseAK(req.TPM.AKArea)
				if err != nil {
					return
				}
				secret, nonce := make([]byte, 32), make([]byte, 32)
				_, _ = rand.Read(secret)
				_, _ = rand.Read(nonce)
				idObject, encSecret, err := attest.MakeCredential(req.TPM.EKArea, ak.Name, secret)
				if err != nil {
					return
				}
				if wire.WriteJSON(s, wire.FrameChallenge, wire.Challenge{IDObject: idObject, EncSecret: encSecret, Nonce: nonce, PCRs: []int{7}}) != nil {
					return
				}
				var p wire.Proof
				if ft, payload, err := wire.ReadFrame(br, 1<<20); err != nil || ft != wire.FrameProof || wire.DecodeJSON(ft, payload, &p) != nil {
					return
				}
				csrDER = p.CSR
			}
			csr, err := x509.ParseCertificateRequest(csrDER)
			if err != nil {
				return
			}
			id := csr.Subject.CommonName
			if !strings.Contains(id, ":") {
				id = "MA/MUN/RABAT:" + req.Name
			}
			leaf, err := r.ca.IssueClient(csr.PublicKey, id, time.Now(), time.Hour)
			if err != nil {
				return
			}
			r.mu.Lock()
			answer := wire.Enrolled{Appliance: id, Chain: [][]byte{leaf}, CA: r.ca.CertDER, OpsKeys: r.opsKeys, PolicyThreshold: r.threshold}
			r.mu.Unlock()
			_ = wire.WriteJSON(s, wire.FrameEnrolled, answer)
			_ = s.Close()
			r.served <- req.Name
			<-conn.Context().Done()
		}()
	}
}

// TestRogueExchangeCannotChooseOpsKeys: an exchange taken over after ops
// made a token answers the new appliance's enrollment with its own CA, a
// real certificate, and ops keys of its choosing, so as to sign the
// appliance's policy itself from then on. The token carries the
// fingerprint of the ops keys: the appliance refuses every such answer,
// says what to do, and writes nothing; the same token then enrolls it at
// the honest exchange.
func TestRogueExchangeCannotChooseOpsKeys(t *testing.T) {
	l := newLab(t, lab.Options{OpsKeys: 2, Threshold: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tok, err := l.CreateToken(lab.Commune, "annex")
	if err != nil {
		t.Fatal(err)
	}
	var honest []ed25519.PublicKey
	for _, k := range l.OpsKeys {
		honest = append(honest, k.Public().(ed25519.PublicKey))
	}
	attacker, _, _ := policyGenerateKey()

	rogue := startRogueEnroller(t, l)
	dir := filepath.Join(t.TempDir(), "annex")
	for _, c := range []struct {
		name      string
		keys      []ed25519.PublicKey
		threshold int
	}{
		{"the attacker's key instead of the ops keys", []ed25519.PublicKey{attacker}, 1},
		{"the attacker's key beside the ops keys", []ed25519.PublicKey{honest[0], honest[1], attacker}, 2},
		{"the ops keys with a lower threshold", honest, 1},
	} {
		rogue.hand(c.keys, c.threshold)
		out, err := enrollFresh(t, l, dir, tok, "annex")
		select {
		case <-rogue.served:
		default:
			t.Fatalf("%s: the rogue exchange was not asked (%v): %s", c.name, err, out)
		}
		if err == nil || !strings.Contains(out, "ops keys") || !strings.Contains(out, "new token") {
			t.Fatalf("%s: the appliance accepted the rogue exchange's trust (%v):\n%s", c.name, err, out)
		}
		t.Logf("%s: %s", c.name, strings.TrimSpace(out))
		st, err := astore.Open(filepath.Join(dir, "state"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Identity()
		st.Close()
		if !errors.Is(err, astore.ErrNotEnrolled) {
			t.Fatalf("%s: the refused enrollment left an identity in the state: %v", c.name, err)
		}
	}

	// The honest exchange, back, enrolls the appliance with the same token.
	rogue.stop()
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := enrollFresh(t, l, dir, tok, "annex"); err != nil || !strings.Contains(out, "Enrolled as MA/MUN/RABAT:annex") {
		t.Fatalf("the same token at the honest exchange: %v\n%s", err, out)
	}
}
