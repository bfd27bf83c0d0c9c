package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/exchange/ca"
	xstore "github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/wire"
)

// These tests play a compromised party to check that the other hops still
// enforce the policy: a consumer that skips its own appliance's check, and
// an exchange that lets anything through.

// rawTunnel is a tunnel made by hand with an appliance's real identity, so
// that the test can send what a tampered appliance would.
type rawTunnel struct {
	conn *quic.Conn
	ctrl *lockedWriter // the control stream, for messages played by hand
	seal *sealer       // speaks the end-to-end protocol with the identity's key
	// frames are the control frames other than boot-state checks, as they
	// arrive (policy pushes, say); one that finds the buffer full is lost.
	frames chan ctrlFrame
}

type ctrlFrame struct {
	ft      wire.FrameType
	payload []byte
}

// dialAs takes an appliance's identity from its state (the appliance must
// be stopped) and opens a tunnel to the exchange with it. The tunnel
// answers the exchange's boot-state checks with its TPM, as the appliance
// would, and dialAs returns once the exchange gave its first verdict: a
// test then plays what the appliance sends, not a missing quote.
func dialAs(t *testing.T, l *lab.Lab, a *lab.Appliance) *rawTunnel {
	t.Helper()
	return dialTunnel(t, l, holdIdentity(t, a), 1<<40, true)
}

// dialSilent is dialAs for a tunnel that never answers a boot-state check.
func dialSilent(t *testing.T, l *lab.Lab, a *lab.Appliance) *rawTunnel {
	t.Helper()
	return dialTunnel(t, l, holdIdentity(t, a), 1<<40, false)
}

// dialTunnel opens a tunnel with h's identity whose hello claims policy
// version claim, reads the welcome and, if answer is set, answers the
// boot-state checks and waits for the first verdict.
func dialTunnel(t *testing.T, l *lab.Lab, h *heldIdentity, claim uint64, answer bool) *rawTunnel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, l.Exchange.Addr, h.tls, tunnel.DefaultQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteJSON(ctrl, wire.FrameHello, wire.Hello{Appliance: h.id.Appliance, Software: "test", PolicyVersion: claim}); err != nil {
		t.Fatal(err)
	}
	br := wire.NewReader(ctrl)
	if ft, _, err := wire.ReadFrame(br, 0); err != nil || ft != wire.FrameWelcome {
		t.Fatalf("welcome: %v %v", ft, err)
	}
	rt := &rawTunnel{conn: conn, ctrl: &lockedWriter{w: ctrl}, frames: make(chan ctrlFrame, 64), seal: newSealer(t, h, l)}
	if !answer {
		return rt
	}
	verdict := make(chan error, 1)
	go rt.answerChecks(h, rt.ctrl, br, verdict)
	if h.tpm == nil {
		return rt // a software key has no boot state to check
	}
	select {
	case err := <-verdict:
		if err != nil {
			t.Fatalf("the exchange's first boot-state check: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no boot-state verdict within 30 s")
	}
	return rt
}

// answerChecks reads the control stream until it ends, answering attest
// frames with a quote from h's TPM, reporting the first verdict, and
// handing every other frame to rt.frames.
func (rt *rawTunnel) answerChecks(h *heldIdentity, ctrl io.Writer, br *bufio.Reader, verdict chan<- error) {
	for {
		ft, payload, err := wire.ReadFrame(br, 0)
		if err != nil {
			return
		}
		switch ft {
		case wire.FrameAttest:
			var at wire.Attest
			if err := wire.DecodeJSON(ft, payload, &at); err != nil {
				return
			}
			q := wire.Quote{Nonce: at.Nonce}
			if got, err := h.tpm.Quote(&tpm.AK{Public: h.id.AKArea, Blob: h.id.AKBlob}, at.Nonce, at.PCRs); err != nil {
				q.Error = err.Error()
			} else {
				q.Attest, q.Signature, q.PCRValues = got.Attest, got.Signature, got.PCRs
			}
			_ = wire.WriteJSON(ctrl, wire.FrameQuote, q)
		case wire.FrameAttested:
			var v wire.Attested
			err := wire.DecodeJSON(ft, payload, &v)
			if err == nil && v.Quarantined {
				err = fmt.Errorf("quarantined: %s", v.Reason)
			}
			select {
			case verdict <- err:
			default:
			}
		default:
			select {
			case rt.frames <- ctrlFrame{ft, payload}:
			default:
			}
		}
	}
}

// roundTrip sends a request head (and no body), sealed end to end as the
// appliance would, and returns the first frame of the answer, opened.
func (rt *rawTunnel) roundTrip(t *testing.T, head wire.RequestHead) (wire.FrameType, []byte) {
	t.Helper()
	return rt.seal.roundTrip(t, rt.conn, head)
}

func wantWireError(t *testing.T, ft wire.FrameType, payload []byte, code, hop string) {
	t.Helper()
	if ft != wire.FrameError {
		t.Fatalf("answer is %s, want an error %s at %s", ft, code, hop)
	}
	we, err := wire.DecodeError(payload)
	if err != nil {
		t.Fatal(err)
	}
	if we.Code != code || we.Hop != hop {
		t.Fatalf("error = %s at %s (%s), want %s at %s", we.Code, we.Hop, we.Detail, code, hop)
	}
}

// TestDenyAtExchange: a consumer appliance that skips its own checks is
// refused at the exchange for what the exchange can see (the service,
// the method, the purpose); what is sealed (the path, the query) the
// provider refuses (TestDenyAtProvider).
func TestDenyAtExchange(t *testing.T) {
	l := newLab(t, lab.Options{})
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rt := dialAs(t, l, l.Consumer)
	before := l.Backend.Requests.Load()

	// Control: an allowed call made by hand goes through, so the refusals
	// below are decisions and not a broken harness.
	ft, payload := rt.roundTrip(t, wire.RequestHead{ID: "t1", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/3", Timeout: 5 * time.Second})
	if ft != wire.FrameResponseHead {
		t.Fatalf("allowed call: %s %s", ft, payload)
	}
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "t2", Service: lab.CivilStatus.String(), Method: "DELETE", Path: "/citizens/3", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange")
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "t3", Service: lab.CivilStatus.String(), Method: "GET", Path: "/internal", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "provider")
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "t4", Service: "MA/GOV/ETATCIVIL/marriages", Method: "GET", Path: "/", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "unknown_service", "exchange")
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "t6", Service: lab.FamilyRecord.String(), Method: "GET", Path: "/families/3", Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange") // no purpose declared
	// A consumer cannot claim to be someone else: the exchange overwrites
	// the consumer with what the certificate says, so this is still the
	// commune asking and still refused.
	ft, payload = rt.roundTrip(t, wire.RequestHead{ID: "t5", Service: lab.CivilStatus.String(), Method: "DELETE", Path: "/citizens/3",
		ConsumerAppliance: lab.RegistryDC.String(), Timeout: 5 * time.Second})
	wantWireError(t, ft, payload, "not_allowed", "exchange")

	if got := l.Backend.Requests.Load() - before; got != 1 {
		t.Fatalf("backend reached %d times, want 1 (only the allowed call)", got)
	}
}

// rogueExchange impersonates the exchange with its real CA (as an attacker
// who took the exchange would), to see what the appliances still refuse.
type rogueExchange struct {
	ln  *quic.Listener
	tr  *quic.Transport
	udp *net.UDPConn
}

// stop closes the rogue's connections and frees its address at once, for
// the real exchange to take it back.
func (r *rogueExchange) stop() {
	r.ln.Close()
	r.tr.Close()
	r.udp.Close()
}

func startRogue(t *testing.T, l *lab.Lab) *rogueExchange {
	t.Helper()
	r, _ := listenRogue(t, l, wire.ALPNTunnel, tls.RequireAnyClientCert)
	return r
}

// listenRogue stops the lab's exchange, takes its CA from its state and
// listens on its address with a server certificate of that CA, for the
// ALPN protocol alpn.
func listenRogue(t *testing.T, l *lab.Lab, alpn string, clientAuth tls.ClientAuthType) (*rogueExchange, *ca.CA) {
	t.Helper()
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	st, err := xstore.Open(l.Exchange.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	certDER, keyDER, err := st.CA()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Load(certDER, keyDER)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := c.IssueServer(key.Public(), []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf, certDER}, PrivateKey: key}},
		NextProtos: []string{alpn}, ClientAuth: clientAuth}
	addr, err := net.ResolveUDPAddr("udp", l.Exchange.Addr)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	ln, err := tr.Listen(tc, tunnel.DefaultQUICConfig())
	if err != nil {
		udp.Close()
		t.Fatal(err)
	}
	r := &rogueExchange{ln: ln, tr: tr, udp: udp}
	t.Cleanup(r.stop)
	return r, c
}

// rogueSession is an appliance's tunnel to the rogue exchange.
type rogueSession struct {
	conn *quic.Conn
	ctrl *quic.Stream
	acks chan wire.PolicyAck
}

// accept waits for the named appliance to connect and welcomes it.
func (r *rogueExchange) accept(t *testing.T, name string) *rogueSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	for {
		conn, err := r.ln.Accept(ctx)
		if err != nil {
			t.Fatalf("no tunnel from %s to the rogue exchange: %v", name, err)
		}
		if conn.ConnectionState().TLS.PeerCertificates[0].Subject.CommonName != name {
			conn.CloseWithError(0, "")
			continue
		}
		return r.welcome(t, ctx, conn)
	}
}

// welcome answers an appliance's hello and keeps its control stream.
func (r *rogueExchange) welcome(t *testing.T, ctx context.Context, conn *quic.Conn) *rogueSession {
	t.Helper()
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	br := wire.NewReader(ctrl)
	if ft, _, err := wire.ReadFrame(br, 0); err != nil || ft != wire.FrameHello {
		t.Fatalf("hello: %v %v", ft, err)
	}
	if err := wire.WriteJSON(ctrl, wire.FrameWelcome, wire.Welcome{Exchange: "rogue", Heartbeat: wire.ToMillis(time.Second)}); err != nil {
		t.Fatal(err)
	}
	s := &rogueSession{conn: conn, ctrl: ctrl, acks: make(chan wire.PolicyAck, 8)}
	go s.readControl(br)
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	return s
}

func (s *rogueSession) readControl(br *bufio.Reader) {
	for {
		ft, payload, err := wire.ReadFrame(br, 0)
		if err != nil {
			return
		}
		switch ft {
		case wire.FramePing:
			var p wire.Ping
			_ = json.Unmarshal(payload, &p)
			_ = wire.WriteJSON(s.ctrl, wire.FramePong, wire.Pong(p))
		case wire.FramePolicyAck:
			var a wire.PolicyAck
			_ = json.Unmarshal(payload, &a)
			s.acks <- a
		}
	}
}

// push sends a bundle and returns the appliance's acknowledgement.
func (s *rogueSession) push(t *testing.T, signed []byte) wire.PolicyAck {
	t.Helper()
	frame, err := wire.PolicyFrame(signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteFrame(s.ctrl, wire.FramePolicy, frame); err != nil {
		t.Fatal(err)
	}
	return s.ack(t)
}

func (s *rogueSession) pushDelta(t *testing.T, delta []byte) wire.PolicyAck {
	t.Helper()
	if err := wire.WriteFrame(s.ctrl, wire.FramePolicyDelta, delta); err != nil {
		t.Fatal(err)
	}
	return s.ack(t)
}

func (s *rogueSession) ack(t *testing.T) wire.PolicyAck {
	t.Helper()
	select {
	case a := <-s.acks:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no policy ack")
	}
	return wire.PolicyAck{}
}

// TestDenyAtProvider plays an exchange that lets anything through, with
// a consumer appliance's key (a compromised consumer and exchange at
// once): the provider's appliance checks every request against its own
// policy, path and query included, and takes the consumer from the
// session, never from the route head.
func TestDenyAtProvider(t *testing.T) {
	l := newLab(t, lab.Options{})
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	commune := newSealer(t, holdIdentity(t, l.Consumer), l)
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.RegistryDC.String())
	before := l.Backend.Requests.Load()

	ok := wire.RequestHead{ID: "r1", Service: lab.CivilStatus.String(), Method: "GET", Path: "/citizens/5",
		ConsumerAppliance: lab.CommuneHQ.String(), ConsumerSystem: "x", Timeout: 5 * time.Second}
	if ft, payload := commune.roundTrip(t, s.conn, ok); ft != wire.FrameResponseHead {
		t.Fatalf("allowed call through the rogue exchange: %s %s", ft, payload)
	}
	cases := []struct {
		name string
		edit func(*wire.RequestHead)
		code string
	}{
		{"method not allowed", func(h *wire.RequestHead) { h.Method = "DELETE" }, "not_allowed"},
		{"path not allowed", func(h *wire.RequestHead) { h.Path = "/internal/all" }, "not_allowed"},
		{"passed on as another consumer", func(h *wire.RequestHead) { h.ConsumerAppliance = "MA/GOV/ETATCIVIL:dc1" }, "tampered"},
		{"consumer not named", func(h *wire.RequestHead) { h.ConsumerAppliance = "" }, "tampered"},
		{"passed on as an appliance not in the policy", func(h *wire.RequestHead) { h.ConsumerAppliance = "MA/MUN/RABAT:annex" }, "tampered"},
		{"unknown service", func(h *wire.RequestHead) { h.Service = "MA/GOV/ETATCIVIL/marriages" }, "unknown_service"},
		{"climbing path", func(h *wire.RequestHead) { h.Path = "/citizens/../admin" }, "not_allowed"},
		{"matrix parameter", func(h *wire.RequestHead) { h.Path = "/citizens/..;/admin" }, "not_allowed"},
		{"query parameter the rule does not list", func(h *wire.RequestHead) { h.Query = "cin=1&admin=true" }, "not_allowed"},
		{"purpose the rule does not name", func(h *wire.RequestHead) {
			h.Service, h.Path, h.Purpose = lab.FamilyRecord.String(), "/families/5", "curiosity"
		}, "not_allowed"},
	}
	for _, c := range cases {
		h := ok
		c.edit(&h)
		ft, payload := commune.roundTrip(t, s.conn, h)
		if ft != wire.FrameError {
			t.Fatalf("%s: answer %s", c.name, ft)
		}
		we, _ := wire.DecodeError(payload)
		if we == nil || we.Code != c.code || we.Hop != "provider" {
			t.Fatalf("%s: got %+v, want %s at provider", c.name, we, c.code)
		}
	}
	// An exchange that makes a key of its own and opens a session in the
	// commune's name: the provider checks the hello's key against its own
	// policy and refuses it.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged, err := seal.NewIdentity(lab.CommuneHQ, key)
	if err != nil {
		t.Fatal(err)
	}
	mallory := &sealer{id: forged, p: commune.p, sessions: map[string]*seal.Session{}}
	ft, payload := mallory.roundTrip(t, s.conn, ok)
	wantWireError(t, ft, payload, string(problem.ApplianceKeyMismatch), "provider")
	if !strings.Contains(l.Provider.Log(), "session refused") {
		t.Error("the provider did not log the forged session request")
	}
	if got := l.Backend.Requests.Load() - before; got != 1 {
		t.Fatalf("backend reached %d times, want 1", got)
	}

	// Ops replace the commune's key (its appliance was stolen, say): a
	// session the old key opened is refused from the moment the
	// provider's policy names another key, though it has not expired and
	// the exchange still carries it; a new one with the old key too.
	keys := l.Keys()
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keys[lab.CommuneHQ] = policy.KeyHashOf(spki)
	replaced, err := policySign(lab.DefaultPolicy(l.PolicyVersion()+1, time.Now().UTC(), keys), l.OpsKey)
	if err != nil {
		t.Fatal(err)
	}
	if ack := s.push(t, replaced); ack.Error != "" {
		t.Fatalf("the policy with the commune's new key: %+v", ack)
	}
	ok.ID = "r2"
	ft, payload = commune.roundTrip(t, s.conn, ok)
	wantWireError(t, ft, payload, string(problem.SessionUnknown), "provider")
	delete(commune.sessions, ok.Service) // a new session, with the old key
	ft, payload = commune.roundTrip(t, s.conn, ok)
	wantWireError(t, ft, payload, string(problem.ApplianceKeyMismatch), "provider")
	if got := l.Backend.Requests.Load() - before; got != 1 {
		t.Fatalf("backend reached %d times after the key was replaced, want still 1", got)
	}
}

// labAfterPush starts a lab and pushes one more policy version, which it
// returns once both appliances apply it.
func labAfterPush(t *testing.T) (*lab.Lab, uint64) {
	t.Helper()
	l := newLab(t, lab.Options{})
	v, err := l.Push(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return l, v
}

func TestAppliancesRejectBadPolicy(t *testing.T) {
	l, v := labAfterPush(t) // v2 is applied everywhere
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.CommuneHQ.String())

	sign := func(version uint64, expires time.Duration) []byte {
		b := l.DefaultPolicy(version, time.Now().UTC().Add(-time.Hour))
		b.Expires = time.Now().Add(expires)
		sp, err := policySign(b, l.OpsKey)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	tampered := func() []byte {
		var sp struct {
			Payload    []byte          `json:"payload"`
			Signatures json.RawMessage `json:"signatures"`
		}
		_ = json.Unmarshal(sign(10, time.Hour), &sp)
		// Widen access, keeping the length so that the payload still
		// parses: only the signature can tell.
		methods := `["GET","POST"]`
		wider := `["*"` + strings.Repeat(" ", len(methods)-len(`["*"]`)) + `]`
		if !bytes.Contains(sp.Payload, []byte(methods)) {
			t.Fatal("the lab's rules changed; tamper with something else")
		}
		sp.Payload = bytes.Replace(sp.Payload, []byte(methods), []byte(wider), 1)
		out, _ := json.Marshal(sp)
		return out
	}
	_, stranger, _ := policyGenerateKey()
	foreign, err := policySign(l.DefaultPolicy(11, time.Now().UTC()), stranger)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		bundle []byte
		reason string
	}{
		{"tampered", tampered(), "signature"},
		{"older", sign(1, time.Hour), "not newer"},
		{"same version, other content", sign(v, 2*time.Hour), "not newer"},
		{"expired", sign(12, -time.Minute), "expired"},
		{"unknown signer", foreign, "unknown key"},
		{"garbage", []byte(`{"payload":"bm90IGpzb24=","signatures":[]}`), ""},
	}
	for _, c := range cases {
		ack := s.push(t, c.bundle)
		if ack.Error == "" || ack.Applied != v || (c.reason != "" && !contains(ack.Error, c.reason)) {
			t.Fatalf("%s: ack %+v, want a refusal mentioning %q with v%d still applied", c.name, ack, c.reason, v)
		}
	}
	st, err := l.Consumer.Status()
	if err != nil || st.Policy.Version != v {
		t.Fatalf("status after rejections: %+v %v", st.Policy, err)
	}
	// The last good policy still decides at the gateway: DELETE stays
	// refused even though the tampered bundle tried to allow it.
	resp, body := do(t, l, "DELETE", "/citizens/1", nil, nil)
	wantProblem(t, resp, body, "not_allowed", "consumer")

	// A good newer bundle is still accepted from there.
	if ack := s.push(t, sign(v+1, time.Hour)); ack.Error != "" || ack.Applied != v+1 {
		t.Fatalf("good bundle: %+v", ack)
	}
}

// A bundle pushed as a delta is held to the same checks as a whole one:
// the appliance rebuilds the payload from the bundle in force and verifies
// the ops signatures over all of it. A delta told against another bundle
// gets a request for the whole bundle, and nothing changes.
func TestAppliancesCheckPolicyDeltas(t *testing.T) {
	l, v := labAfterPush(t)
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.CommuneHQ.String())
	trust := policy.Trust{Keys: []ed25519.PublicKey{l.OpsKey.Public().(ed25519.PublicKey)}}
	verified := func(version uint64, edit func(*policy.Bundle), prev *policy.Policy) *policy.Policy {
		b := l.DefaultPolicy(version, time.Now().UTC().Add(-time.Hour))
		if edit != nil {
			edit(b)
		}
		sp, err := policy.Sign(b, l.OpsKey)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sp.VerifyOver(trust, time.Now(), prev)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	delta := func(base, next *policy.Policy) []byte {
		d, err := policy.NewDelta(base, next)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	// The appliance holds base, pushed whole.
	base := verified(v+1, nil, nil)
	raw, err := base.Signed().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if ack := s.push(t, raw); ack.Error != "" || ack.Applied != v+1 {
		t.Fatalf("base bundle in the binary form: %+v", ack)
	}
	other := verified(v+1, func(b *policy.Bundle) { b.Members[0].Name = "Another name" }, nil)
	older := verified(v, nil, nil)
	next := verified(v+2, func(b *policy.Bundle) { b.Rules[0].Methods = []string{"GET"} }, base)
	good := delta(base, next)
	forged := bytes.Replace(good, fmt.Appendf(nil, `"version":%d`, v+2), fmt.Appendf(nil, `"version":%d`, v+3), 1)
	if bytes.Equal(forged, good) {
		t.Fatal("the delta does not carry the new version")
	}
	cases := []struct {
		name   string
		delta  []byte
		resend bool
		reason string
	}{
		{"against another bundle of the same version", delta(other, next), true, "delta"},
		{"against an older bundle", delta(older, next), true, "delta"},
		{"version forged", forged, false, "signature"},
		{"garbage", []byte("not a delta"), false, "malformed"},
	}
	for _, c := range cases {
		ack := s.pushDelta(t, c.delta)
		if ack.Error == "" || ack.Resend != c.resend || ack.Applied != v+1 || !contains(ack.Error, c.reason) {
			t.Fatalf("%s: ack %+v, want a refusal mentioning %q (resend %v) with v%d still applied", c.name, ack, c.reason, c.resend, v+1)
		}
	}
	if ack := s.pushDelta(t, good); ack.Error != "" || ack.Applied != v+2 {
		t.Fatalf("good delta: %+v", ack)
	}
	st, err := l.Consumer.Status()
	if err != nil || st.Policy.Version != v+2 {
		t.Fatalf("status after the delta: %+v %v", st.Policy, err)
	}
	// The same delta again (as each lane of an appliance gets it) changes
	// nothing and is acknowledged as the bundle in force; one of the same
	// version with other content is refused (TestAppliancesRejectBadPolicy).
	if ack := s.pushDelta(t, good); ack.Applied != v+2 || ack.Error != "" || ack.Resend {
		t.Fatalf("the same delta again: %+v", ack)
	}
	if st, err := l.Consumer.Status(); err != nil || st.Policy.Version != v+2 {
		t.Fatalf("status after the same delta again: %+v %v", st.Policy, err)
	}
}

// When an appliance holds another bundle than the exchange thinks (here,
// one of the same version from a rogue exchange), the exchange's delta
// does not fit: the appliance asks for the whole bundle, the exchange
// sends it at once, and the appliance applies it.
func TestExchangeResendsWholeBundle(t *testing.T) {
	l, v := labAfterPush(t)
	ctx := context.Background()
	sign := func(version uint64, edit func(*policy.Bundle)) []byte {
		b := l.DefaultPolicy(version, time.Now().UTC().Add(-time.Hour))
		if edit != nil {
			edit(b)
		}
		raw, err := policySign(b, l.OpsKey)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.CommuneHQ.String())
	if ack := s.push(t, sign(v+1, func(b *policy.Bundle) { b.Members[0].Name = "Another name" })); ack.Error != "" {
		t.Fatalf("the rogue's v%d: %+v", v+1, ack)
	}
	rogue.stop()
	if err := l.StartExchange(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Exchange.Call("POST", "/v1/policy", sign(v+1, nil), nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var a struct{ Connected int }
		if err := l.Exchange.Call("GET", "/v1/policy/acks", nil, &a); err == nil && a.Connected == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the appliances did not reconnect to the exchange")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The exchange counts v+1 for both, but the consumer holds the rogue's.
	deltas := func(result string) float64 {
		fam, err := lab.Scrape(ctx, l.Exchange.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := fam.Value("bab_exchange_policy_deltas_total", "result", result)
		return n
	}
	sentBefore := deltas("sent")
	if err := l.Exchange.Call("POST", "/v1/policy", sign(v+2, nil), nil); err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v+2); err != nil {
		t.Fatal(err)
	}
	// The counters move just after each write, so they may trail the acks.
	var sent, resent float64
	for range 100 {
		if sent, resent = deltas("sent")-sentBefore, deltas("resent"); sent == 2 && resent == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sent != 2 || resent != 1 {
		t.Errorf("for v%d the exchange sent %v deltas (want 2, one per appliance) and resent %v whole bundles (want 1)", v+2, sent, resent)
	}
}

// lockedWriter lets a test write control frames while the tunnel answers
// boot-state checks on the same stream: one frame at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
