package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/wire"
)

// These tests play a compromised exchange that relays between two real
// appliances: with the exchange's CA it takes both tunnels, carries the
// commune's requests to the registry, and tries to read them, to forge
// the consumer, to replay a request, to swap two requests' bodies and to
// alter an answer. End-to-end protection must leave it nothing to read and
// make each attempt fail with a typed error that both appliances log.

// relay is the rogue exchange's request path between the two tunnels.
type relay struct {
	t        *testing.T
	consumer *rogueSession
	provider *rogueSession
	mu       sync.Mutex
	seen     bytes.Buffer // every byte relayed, both ways
	// edit, when set, may change the route head before it goes on, and
	// the bytes after it (the sealed head and body) that go to the
	// provider and back.
	edit func(h *wire.RouteHead, up []byte) []byte
	down func(answer []byte) []byte
	// kept are the requests relayed so far, each as the provider got it.
	kept [][]byte
}

// acceptBoth waits for both lab appliances to connect to the rogue.
func acceptBoth(t *testing.T, r *rogueExchange) (consumer, provider *rogueSession) {
	t.Helper()
	got := map[string]*rogueSession{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(got) < 2 {
		conn, err := r.ln.Accept(ctx)
		if err != nil {
			t.Fatalf("the appliances did not both connect to the rogue exchange: %v", err)
		}
		name := conn.ConnectionState().TLS.PeerCertificates[0].Subject.CommonName
		if name != lab.CommuneHQ.String() && name != lab.RegistryDC.String() {
			conn.CloseWithError(0, "")
			continue
		}
		got[name] = r.welcome(t, ctx, conn)
	}
	return got[lab.CommuneHQ.String()], got[lab.RegistryDC.String()]
}

// run relays every stream the consumer opens, until the test ends.
func (x *relay) run(ctx context.Context) {
	for {
		cs, err := x.consumer.conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		go x.carry(ctx, cs)
	}
}

// carry relays one stream: the route head, read and passed on as the
// exchange would (with the consumer it verified), then everything after
// it, whole, each way.
func (x *relay) carry(ctx context.Context, cs *quic.Stream) {
	r := wire.NewReader(cs)
	ft, payload, err := wire.ReadFrame(r, wire.MaxHead)
	if err != nil || ft != wire.FrameRoute {
		wire.Abort(cs, wire.CodeProtocol)
		return
	}
	var h wire.RouteHead
	if err := h.UnmarshalBinary(payload); err != nil {
		wire.Abort(cs, wire.CodeProtocol)
		return
	}
	up, err := io.ReadAll(r) // the consumer closes its side after the body
	if err != nil {
		wire.Abort(cs, wire.CodeProtocol)
		return
	}
	x.note(payload, up)
	h.ConsumerAppliance = lab.CommuneHQ.String()
	edit, down := x.hooks()
	if edit != nil && !h.Handshake() {
		up = edit(&h, up)
	}
	route, _ := h.MarshalBinary()
	sent := wire.AppendFrame(nil, wire.FrameRoute, route)
	sent = append(sent, up...)
	x.mu.Lock()
	if !h.Handshake() {
		x.kept = append(x.kept, sent)
	}
	x.mu.Unlock()
	answer, err := x.toProvider(ctx, sent)
	if err != nil {
		wire.Abort(cs, wire.CodeTunnelLost)
		return
	}
	x.note(answer)
	if down != nil && !h.Handshake() {
		answer = down(answer)
	}
	_, _ = cs.Write(answer)
	_ = cs.Close()
}

// toProvider sends bytes as one request stream to the provider and
// returns all it answers.
func (x *relay) toProvider(ctx context.Context, sent []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ps, err := x.provider.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	_ = ps.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := ps.Write(sent); err != nil {
		return nil, err
	}
	_ = ps.Close()
	return io.ReadAll(ps)
}

func (x *relay) note(bs ...[]byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, b := range bs {
		x.seen.Write(b)
	}
}

// startRelay puts a rogue exchange between the lab's two appliances.
func startRelay(t *testing.T, l *lab.Lab) *relay {
	t.Helper()
	rogue := startRogue(t, l)
	c, p := acceptBoth(t, rogue)
	x := &relay{t: t, consumer: c, provider: p}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go x.run(ctx)
	// The consumer takes its tunnel to the rogue for up once welcomed.
	waitFor(t, 20*time.Second, func() error {
		st, err := l.Consumer.Status()
		if err != nil {
			return err
		}
		for _, tu := range st.Tunnels {
			if tu.Connected {
				return nil
			}
		}
		return errString("the commune's tunnel to the rogue exchange is not up yet")
	})
	return x
}

// tamper sets what the relay does to the requests and answers it relays
// from now on (nil for nothing).
func (x *relay) tamper(edit func(h *wire.RouteHead, up []byte) []byte, down func([]byte) []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.edit, x.down = edit, down
}

// hooks are the relay's tampering now.
func (x *relay) hooks() (func(h *wire.RouteHead, up []byte) []byte, func([]byte) []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.edit, x.down
}

// call makes a request through the commune's gateway, as a local system
// does, and returns its status and body.
func call(t *testing.T, l *lab.Lab, method, path, header string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := l.Request(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if header != "" {
		req.Header.Set("X-Case-Note", header)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// wantRefused checks a gateway answer is the typed problem code from hop.
func wantRefused(t *testing.T, what string, status int, body []byte, code problem.Code, hop string) {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Code != code || p.Hop != hop {
		t.Errorf("%s: %d %s, want the problem %s at the %s", what, status, body, code, hop)
	}
}

// TestExchangeCannotReadWhatItRelays: a marker sent in the path, in a
// header and in the body of a request, and echoed back in the answer,
// never appears in the bytes the exchange relays; the request still works.
func TestExchangeCannotReadWhatItRelays(t *testing.T) {
	l := newLab(t, lab.Options{})
	x := startRelay(t, l)
	const marker = "MARKER4242424242"
	status, body := call(t, l, "POST", "/echo?n="+marker, "note "+marker, []byte("the body "+marker))
	if status != 200 || string(body) != "the body "+marker {
		t.Fatalf("through the relay: %d %q", status, body)
	}
	status, body = call(t, l, "GET", "/citizens/4242424242", "", nil)
	if status != 200 || !strings.Contains(string(body), `"id":4242424242`) {
		t.Fatalf("lookup through the relay: %d %s", status, body)
	}
	x.mu.Lock()
	seen := x.seen.Bytes()
	x.mu.Unlock()
	for _, s := range []string{marker, "4242424242", "/echo", "/citizens", "X-Case-Note", "the body", "Amina", "Youssef"} {
		if bytes.Contains(seen, []byte(s)) {
			t.Errorf("the exchange read %q in what it relayed", s)
		}
	}
	if len(seen) < 200 {
		t.Fatalf("the relay saw %d bytes: the test did not watch the traffic", len(seen))
	}
}

// TestRealExchangeCannotRead is the same check at the real exchange,
// built for the test with a tap (tag babtap) that copies every byte it
// relays on request streams into a file, with tunnels over QUIC and over
// the TCP fallback: the protection does not depend on the transport.
func TestRealExchangeCannotRead(t *testing.T) {
	bin := t.TempDir()
	if err := lab.Build(bin, "babtap"); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{"quic", "tcp"} {
		t.Run(tr, func(t *testing.T) { exchangeCannotRead(t, bin, tr) })
	}
}

func exchangeCannotRead(t *testing.T, bin, transport string) {
	tapFile := filepath.Join(t.TempDir(), "relayed")
	l := newLab(t, lab.Options{ExchangeBin: filepath.Join(bin, "bab-exchange"), ExchangeEnv: []string{"BAB_TAP_FILE=" + tapFile}, Transport: transport})
	if st, err := l.Consumer.Status(); err != nil || len(st.Tunnels) == 0 || st.Tunnels[0].Transport != transport {
		t.Fatalf("the consumer's tunnel is not over %s: %+v %v", transport, st, err)
	}
	const marker = "MARKER4242424242"
	status, body := call(t, l, "POST", "/echo?n="+marker, "note "+marker, []byte("the body "+marker))
	if status != 200 || string(body) != "the body "+marker {
		t.Fatalf("through the exchange: %d %q", status, body)
	}
	if status, body = call(t, l, "GET", "/citizens/4242424242", "", nil); status != 200 {
		t.Fatalf("lookup: %d %s", status, body)
	}
	seen, err := os.ReadFile(tapFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 200 {
		t.Fatalf("the tap saw %d bytes: the test did not watch the traffic", len(seen))
	}
	for _, s := range []string{marker, "4242424242", "/echo", "/citizens", "X-Case-Note", "the body", "Amina", "Youssef"} {
		if bytes.Contains(seen, []byte(s)) {
			t.Errorf("the exchange relayed %q in clear", s)
		}
	}
}

// TestExchangeCannotForgeOrReplay plays the exchange's attacks on requests
// and answers, each refused with a typed error, the backend untouched.
func TestExchangeCannotForgeOrReplay(t *testing.T) {
	l := newLab(t, lab.Options{})
	x := startRelay(t, l)
	if status, body := call(t, l, "GET", "/citizens/1", "", nil); status != 200 {
		t.Fatalf("control request through the relay: %d %s", status, body)
	}

	t.Run("forged consumer", func(t *testing.T) {
		x.tamper(func(h *wire.RouteHead, up []byte) []byte {
			h.ConsumerAppliance = lab.RegistryDC.String() // another appliance the policy lists
			return up
		}, nil)
		defer x.tamper(nil, nil)
		before := l.Backend.Requests.Load()
		status, body := call(t, l, "GET", "/citizens/2", "", nil)
		wantRefused(t, "a request passed on as another consumer's", status, body, problem.Tampered, "provider")
		if l.Backend.Requests.Load() != before {
			t.Error("the backend was reached")
		}
	})

	t.Run("redirected", func(t *testing.T) {
		// Passed on as meant for another provider appliance than the one
		// the consumer sealed it for (the policy may route the service to
		// several): the one that gets it does not take it.
		x.tamper(func(h *wire.RouteHead, up []byte) []byte {
			h.Provider = "MA/GOV/ETATCIVIL:dc2"
			return up
		}, nil)
		defer x.tamper(nil, nil)
		before := l.Backend.Requests.Load()
		status, body := call(t, l, "GET", "/citizens/4", "", nil)
		wantRefused(t, "a request redirected to another provider", status, body, problem.Tampered, "provider")
		if l.Backend.Requests.Load() != before {
			t.Error("the backend was reached")
		}
	})

	t.Run("replayed request", func(t *testing.T) {
		x.mu.Lock()
		last := x.kept[len(x.kept)-1]
		x.mu.Unlock()
		first := x.kept[0] // the control request, which the provider served
		before := l.Backend.Requests.Load()
		for _, sent := range [][]byte{first, last} {
			answer, err := x.toProvider(context.Background(), sent)
			if err != nil {
				t.Fatal(err)
			}
			ft, payload, err := wire.ReadFrame(wire.NewReader(bytes.NewReader(answer)), wire.MaxHead*2)
			if err != nil {
				t.Fatal(err)
			}
			if code := refusalCode(ft, payload); code != string(problem.Tampered) {
				t.Errorf("a replayed request was answered with %s %q, want a tampered refusal", ft, code)
			}
		}
		if l.Backend.Requests.Load() != before {
			t.Error("a replayed request reached the backend")
		}
	})

	t.Run("swapped bodies", func(t *testing.T) {
		var mu sync.Mutex
		var firstBody []byte
		x.tamper(func(h *wire.RouteHead, up []byte) []byte {
			head, rest := splitFrame(t, up)
			mu.Lock()
			defer mu.Unlock()
			if firstBody == nil {
				firstBody = rest
				return up
			}
			return append(head, firstBody...) // the first request's body under the second's head
		}, nil)
		defer x.tamper(nil, nil)
		if status, body := call(t, l, "POST", "/echo", "", []byte("first body")); status != 200 || string(body) != "first body" {
			t.Fatalf("first: %d %s", status, body)
		}
		before := l.Backend.Requests.Load()
		status, body := call(t, l, "POST", "/echo", "", []byte("second body"))
		wantRefused(t, "a request with another request's body", status, body, problem.Tampered, "provider")
		if bytes.Contains(body, []byte("first body")) {
			t.Error("the first body was echoed back as the second's")
		}
		if l.Backend.Requests.Load() != before {
			t.Error("the swapped body reached the backend")
		}
	})

	t.Run("altered answer", func(t *testing.T) {
		x.tamper(nil, func(answer []byte) []byte {
			b := append([]byte(nil), answer...)
			b[len(b)/2] ^= 0x20
			return b
		})
		defer x.tamper(nil, nil)
		status, body := call(t, l, "GET", "/citizens/3", "", nil)
		wantRefused(t, "an altered answer", status, body, problem.Tampered, "consumer")
	})

	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if !strings.Contains(a.Log(), "altered on the way") {
			t.Errorf("%s logged no refusal of an altered request:\n%s", a.ID, lastBytes(a.Log(), 3000))
		}
	}
}

// splitFrame splits the first frame off b.
func splitFrame(t *testing.T, b []byte) (first, rest []byte) {
	t.Helper()
	n, k := binary.Uvarint(b[1:])
	end := 1 + k + int(n)
	if k <= 0 || end > len(b) {
		t.Fatalf("no whole frame in %d bytes", len(b))
	}
	return b[:end:end], b[end:]
}

// refusalCode is the code of a clear or sealed refusal ("" for an answer).
func refusalCode(ft wire.FrameType, payload []byte) string {
	switch ft {
	case wire.FrameError:
		if we, err := wire.DecodeError(payload); err == nil {
			return we.Code
		}
	case wire.FrameSealedError:
		if len(payload) > 0 && int(payload[0]) < len(payload) {
			return string(payload[1 : 1+payload[0]])
		}
	}
	return ""
}

// lastBytes is the end of a log, for a failure message.
func lastBytes(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
