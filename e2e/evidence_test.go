package e2e

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/wire"
)

// evidenceMarker is a national number sent in a path: no digest of it may
// let the exchange find it, and it must appear nowhere in its state file.
const evidenceMarker = "373737373"

// TestEvidenceOfBothAppliances: after lookups through the lab, both
// appliances' signed batches are in the exchange's trace and trace verify
// checks them; a receipt carries both sides' evidence of a request and
// verifies offline with bab, the body and the target checked with the
// salt the caller got (the backend got the same), and fails with one byte
// changed anywhere; the exchange's state file holds no path, identifier,
// body or salt.
func TestEvidenceOfBothAppliances(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "trace_checkpoint_every: 300ms\n"})
	type sent struct{ id, salt, target, body, answer string }
	var reqs []sent
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/citizens/" + evidenceMarker + "?cin=AB" + evidenceMarker, ""},
		{"POST", "/echo", `{"cin":"` + evidenceMarker + `"}`},
		{"GET", "/citizens/42", ""},
	} {
		var body *strings.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		resp, b := doBody(t, l, r.method, r.path, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
		s := sent{id: resp.Header.Get("Bab-Request-Id"), salt: resp.Header.Get("Bab-Evidence-Salt"), target: r.method + " " + r.path, body: r.body, answer: string(b)}
		if _, err := evidence.ParseSalt(s.salt); err != nil {
			t.Fatalf("the caller got no evidence salt (%q): %v", s.salt, err)
		}
		if got, _ := l.Backend.Salts.Load(s.id); got != s.salt {
			t.Errorf("the backend got the salt %v, the caller %s", got, s.salt)
		}
		reqs = append(reqs, s)
	}
	if reqs[0].salt == reqs[2].salt {
		t.Error("two requests have the same salt")
	}

	key, err := exchangeCmd(l, "trace", "key")
	if err != nil {
		t.Fatal(err, key)
	}
	key = strings.TrimSpace(key)
	dir := t.TempDir()
	receipt := func(r sent) string {
		t.Helper()
		f := filepath.Join(dir, r.id+".tlog-proof")
		out, err := exchangeCmd(l, "trace", "receipt", r.id, "-o", f)
		if err != nil || !strings.Contains(out, "the consumer "+lab.CommuneHQ.String()+"'s") || !strings.Contains(out, "the provider "+lab.RegistryDC.String()+"'s") {
			t.Fatalf("trace receipt %s: %v\n%s", r.id, err, out)
		}
		return f
	}
	file := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}

	// The lookup of the marker: what was asked and the answer.
	lookup := receipt(reqs[0])
	out, code := babCmd(t, "trace", "verify-receipt", lookup, "--log-key", key, "--salt", reqs[0].salt,
		"--target", reqs[0].target, "--body", file("answer.json", reqs[0].answer))
	for _, want := range []string{"Receipt verified", "The consumer " + lab.CommuneHQ.String() + " says it sent this request", "The provider " + lab.RegistryDC.String() + " says it received",
		"Both appliances' evidence agrees", "is what was asked, as the consumer " + lab.CommuneHQ.String() + " and the provider " + lab.RegistryDC.String() + " signed it",
		"is the answer body the consumer " + lab.CommuneHQ.String() + " received, and the answer body the provider " + lab.RegistryDC.String() + " sent"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("bab trace verify-receipt of the lookup: exit %d, want %q in\n%s", code, want, out)
		}
	}
	t.Logf("bab trace verify-receipt of the lookup:\n%s", out)
	if out, _ := babCmd(t, "trace", "verify-receipt", lookup, "--log-key", key); strings.Contains(out, evidenceMarker) {
		t.Errorf("the receipt shows the marker:\n%s", out)
	}

	// The body of the POST, both ways (the echo answers what it got).
	post := receipt(reqs[1])
	out, code = babCmd(t, "trace", "verify-receipt", post, "--log-key", key, "--salt", reqs[1].salt, "--body", file("body.json", reqs[1].body))
	if code != 0 || !strings.Contains(out, "is the request body the consumer "+lab.CommuneHQ.String()+" sent, and the answer body") ||
		!strings.Contains(out, "the request body the provider "+lab.RegistryDC.String()+" received") {
		t.Fatalf("the POST's body: exit %d\n%s", code, out)
	}
	// Another body, another target, another request's salt, no salt.
	for name, args := range map[string][]string{
		"another body":           {"--salt", reqs[1].salt, "--body", file("other.json", `{"cin":"373737374"}`)},
		"another target":         {"--salt", reqs[0].salt, "--target", "GET /citizens/373737374"},
		"another request's salt": {"--salt", reqs[2].salt, "--body", file("body2.json", reqs[1].body)},
		"no salt":                {"--body", file("body3.json", reqs[1].body)},
	} {
		f := post
		if strings.Contains(name, "target") {
			f = lookup
		}
		out, code := babCmd(t, append([]string{"trace", "verify-receipt", f, "--log-key", key}, args...)...)
		if code == 0 {
			t.Errorf("%s: accepted\n%s", name, out)
		}
		t.Logf("%s: %s", name, lastLine(out))
	}

	// One byte changed in each kind of line: refused.
	good, err := os.ReadFile(lookup)
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"record ", "proof ", "batch ", "entry ", "path ", "\n\n", "— "} {
		i := bytes.Index(good, []byte("\n"+strings.TrimPrefix(what, "\n")))
		if what == "\n\n" {
			i = bytes.Index(good, []byte(what)) + 3 // the checkpoint's origin
		} else {
			i += len(what) + 12
		}
		if i < 12 {
			t.Fatalf("no %q line in the receipt:\n%s", what, good)
		}
		bad := append([]byte(nil), good...)
		if bad[i] == 'A' {
			bad[i] = 'B'
		} else {
			bad[i] = 'A'
		}
		out, code := babCmd(t, "trace", "verify-receipt", file("bad.tlog-proof", string(bad)), "--log-key", key)
		if code != 1 || !(strings.Contains(out, "does not verify") || strings.Contains(out, "is not a valid receipt")) {
			t.Errorf("one byte changed in a %q line: exit %d\n%s", what, code, out)
		}
		t.Logf("one byte changed in a %q line: %s", strings.TrimSpace(what), lastLine(out))
	}

	// Both appliances' batches are in the trace, and trace verify checks
	// them.
	out, err = exchangeCmd(l, "trace", "verify")
	var records, batches, entries int
	if err == nil {
		_, err = fmt.Sscanf(out[strings.Index(out, "Checked: "):], "Checked: %d record(s), of which %d are the appliances' evidence batches (%d entries)", &records, &batches, &entries)
	}
	if err != nil || !strings.Contains(out, "OK:") || batches < 2 || entries != 2*len(reqs) || records-batches != len(reqs) {
		t.Fatalf("trace verify: %v\n%s", err, out)
	}

	// Nothing of the requests but their metadata in the state file.
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(l.Exchange.StateDir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{evidenceMarker, "/citizens", "cin=", `{"cin"`, reqs[0].salt, reqs[1].salt, "Amina"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the exchange's state file holds %q", s)
		}
	}
	for _, r := range reqs {
		salt, _ := evidence.ParseSalt(r.salt)
		if bytes.Contains(raw, salt[:]) {
			t.Errorf("the exchange's state file holds the salt of %s", r.id)
		}
	}
	if !bytes.Contains(raw, []byte(reqs[0].id)) {
		t.Error("the state file does not hold the request's id: the grep looks at the wrong file")
	}
	// An entry kept beside the log, changed in the file: trace verify
	// names its batch.
	index := firstKey(t, filepath.Join(l.Exchange.StateDir, store.FileName), []byte("evidence_entries"))
	tamper(t, filepath.Join(l.Exchange.StateDir, store.FileName), []byte("evidence_entries"), index, func(v []byte) { v[len(v)-2] ^= 1 })
	out, err = exchangeCmd(l, "trace", "verify")
	if want := fmt.Sprintf("record %d is an evidence batch of", index); err == nil || !strings.Contains(out, want) {
		t.Fatalf("trace verify of a changed entry: %v, want %q in\n%s", err, want, out)
	}
	t.Logf("trace verify of a changed entry:\n%s", out)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

func firstKey(t *testing.T, path string, bucket []byte) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64 = -1
	_ = db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucket).Cursor().First(); k != nil {
			n = int64(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	if n < 0 {
		t.Fatalf("no key in %s", bucket)
	}
	return n
}

// TestEvidenceForgedRefused plays an appliance's evidence by hand on a
// tunnel with its real identity: a batch whose key is certified by another
// key than the one the policy binds to the appliance, a batch signed by a
// key its certificate does not certify, and a batch in which it speaks for
// the provider are each refused, and logged by the exchange; none is in
// the trace. A sound batch is logged, once however often it is sent.
func TestEvidenceForgedRefused(t *testing.T) {
	l := newLab(t, lab.Options{ExchangeYAML: "trace_checkpoint_every: 300ms\n"})
	if resp, b := do(t, l, "GET", "/citizens/42", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	before := countBatches(t, l)
	h := holdIdentity(t, l.Consumer)
	rt := dialTunnel(t, l, h, 1<<40, true)
	name := lab.CommuneHQ.String()
	entry := func(side evidence.Side) []byte {
		e := evidence.Entry{Side: side, At: time.Now(), ID: fmt.Sprintf("%016x", time.Now().UnixNano()), Consumer: name, Provider: lab.RegistryDC.String(),
			Service: lab.CivilStatus.String(), Method: "GET", Seq: 1, RequestHead: evidence.Digest{1}, RequestBody: evidence.Digest{2}}
		return e.AppendBinary(nil)
	}
	send := func(what string, f wire.Evidence) wire.EvidenceAck {
		t.Helper()
		payload, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := wire.WriteFrame(rt.ctrl, wire.FrameEvidence, payload); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(10 * time.Second)
		for {
			select {
			case fr := <-rt.frames:
				if fr.ft != wire.FrameEvidenceAck {
					continue
				}
				var a wire.EvidenceAck
				if err := wire.DecodeJSON(fr.ft, fr.payload, &a); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %+v", what, a)
				return a
			case <-deadline:
				t.Fatalf("%s: no acknowledgement", what)
			}
		}
	}
	seal := func(key crypto.Signer, entries ...[]byte) *evidence.Sealed {
		t.Helper()
		s, err := evidence.NewSigner(name, key)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := s.Seal(entries, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Certified by a key that is not the one the policy binds.
	s := seal(other, entry(evidence.Consumer))
	if a := send("a key certified by another key", wire.Evidence{Cert: s.Cert, Batch: s.Head, Entries: s.Entries}); a.Error == "" || a.Retry || !strings.Contains(a.Error, "the policy binds") {
		t.Errorf("a batch whose key another key certified: %+v", a)
	}
	// Certified by the appliance key, signed by another key.
	good := seal(h.signer, entry(evidence.Consumer))
	var head evidence.Batch
	if err := head.UnmarshalBinary(good.Head); err != nil {
		t.Fatal(err)
	}
	_, rogue, _ := ed25519.GenerateKey(rand.Reader)
	head.Sig = ed25519.Sign(rogue, append([]byte("bab evidence v1 batch\x00"), head.Signed()...))
	forged, _ := head.MarshalBinary()
	if a := send("a batch signed by an uncertified key", wire.Evidence{Cert: good.Cert, Batch: forged, Entries: good.Entries}); a.Error == "" || a.Retry || !strings.Contains(a.Error, "signature does not verify") {
		t.Errorf("a batch signed by a key its certificate does not certify: %+v", a)
	}
	// Speaking for the provider.
	liar := seal(h.signer, entry(evidence.Provider))
	if a := send("an entry for the provider", wire.Evidence{Cert: liar.Cert, Batch: liar.Head, Entries: liar.Entries}); a.Error == "" || !strings.Contains(a.Error, "word as provider") {
		t.Errorf("a batch in which the consumer speaks for the provider: %+v", a)
	}
	// Sound, twice: logged once.
	a1 := send("a sound batch", wire.Evidence{Cert: good.Cert, Batch: good.Head, Entries: good.Entries})
	a2 := send("the sound batch again", wire.Evidence{Cert: good.Cert, Batch: good.Head, Entries: good.Entries})
	if a1.Error != "" || a2.Error != "" || a1.Index != a2.Index || a1.Index == 0 {
		t.Fatalf("a sound batch, twice: %+v %+v", a1, a2)
	}
	if got := countBatches(t, l); got != before+1 {
		t.Errorf("%d evidence batches in the trace, want %d: only the sound one is logged", got, before+1)
	}
	logs := l.Exchange.Log()
	if n := strings.Count(logs, "evidence batch refused"); n != 3 {
		t.Errorf("the exchange logged %d refusals, want 3:\n%s", n, lastBytes(logs, 4000))
	}
}

// countBatches is how many evidence batches the running exchange's trace
// holds, as trace verify counts them.
func countBatches(t *testing.T, l *lab.Lab) int {
	t.Helper()
	out, err := exchangeCmd(l, "trace", "verify")
	var records, batches int
	if err == nil {
		_, err = fmt.Sscanf(out[strings.Index(out, "Checked: "):], "Checked: %d record(s), of which %d are", &records, &batches)
	}
	if err != nil || !strings.Contains(out, "OK:") {
		t.Fatalf("trace verify: %v\n%s", err, out)
	}
	return batches
}
