package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestConsoleOnceOnlyLookup: office IT pairs a clerk's console; the clerk
// looks up a citizen's record in the civil registry, and the lookup shows
// in the activity of both appliances and in the exchange's trace with the
// clerk's identity; a lookup the form refuses, a service the role may not
// use, and a revoked console are refused with typed problems.
func TestConsoleOnceOnlyLookup(t *testing.T) {
	l := newLab(t, lab.Options{})
	code := pairCode(t, l.Consumer, "clerk", "10m")
	desk, err := pairConsole(l.Consumer, code, "desk-3")
	if err != nil {
		t.Fatalf("pairing: %v", err)
	}
	var who console.WhoAmI
	desk.call(t, "GET", console.PathWhoAmI, nil, &who, 200)
	if who.Role != console.RoleClerk || who.System != "console/desk-3/a.benali" {
		t.Fatalf("whoami %+v", who)
	}
	var cat []console.Service
	desk.call(t, "GET", console.PathCatalog, nil, &cat, 200)
	if len(cat) != 2 || cat[0].ID != lab.CivilStatus.String() || len(cat[0].Operations) != 1 || cat[0].Operations[0].Path != "/citizens/{id}" ||
		cat[1].ID != lab.FamilyRecord.String() || !slices.Equal(cat[1].Purposes, []string{lab.FamilyPurpose}) {
		t.Fatalf("catalog %+v", cat)
	}
	var res console.LookupResult
	desk.call(t, "POST", console.PathLookup, console.LookupRequest{Service: lab.CivilStatus.String(), Path: "/citizens/{id}", Params: map[string]string{"id": "42"}}, &res, 200)
	var record map[string]any
	if err := json.Unmarshal(res.Body, &record); err != nil || res.Status != 200 || record["system"] != who.System || record["asked_by"] != lab.Commune.String() {
		t.Fatalf("lookup: %+v %s", res, res.Body)
	}
	// The lookup is in both appliances' activity and the exchange's trace.
	var acts []console.Activity
	desk.call(t, "GET", console.PathActivity+"?direction=out", nil, &acts, 200)
	if !hasActivity(acts, res.RequestID, who.System) {
		t.Errorf("the consumer's activity lacks the lookup: %+v", acts)
	}
	provider := socketConsole(l.Provider)
	provider.call(t, "GET", console.PathActivity+"?direction=in", nil, &acts, 200)
	if !hasActivity(acts, res.RequestID, "console/desk-3/a.benali") {
		t.Errorf("the provider's activity lacks the lookup: %+v", acts)
	}
	waitFor(t, 15*time.Second, func() error { // the trace is written in batches
		out, err := exec.Command(filepath.Join(binDir, "bab-exchange"), "trace", "--json", "--config", l.Exchange.Config).CombinedOutput()
		if err != nil || !strings.Contains(string(out), res.RequestID) || !strings.Contains(string(out), who.System) {
			return fmt.Errorf("the exchange's trace lacks the clerk's lookup %s: %v\n%.2000s", res.RequestID, err, out)
		}
		return nil
	})

	// A service whose rule asks for a purpose: the purpose is sent, the
	// drop-down's values are the only ones taken.
	family := console.LookupRequest{Service: lab.FamilyRecord.String(), Path: "/families/{holder}", Params: map[string]string{"holder": "42", "view": "full"}, Purpose: lab.FamilyPurpose}
	desk.call(t, "POST", console.PathLookup, family, &res, 200)
	if err := json.Unmarshal(res.Body, &record); err != nil || res.Status != 200 || record["purpose"] != lab.FamilyPurpose || record["spouse"] == nil {
		t.Fatalf("family record lookup: %+v %s", res, res.Body)
	}
	noPurpose, badView := family, family
	noPurpose.Purpose = ""
	badView.Params = map[string]string{"holder": "42", "view": "everything"}
	desk.wantProblem(t, "POST", console.PathLookup, noPurpose, problem.NotAllowed)
	desk.wantProblem(t, "POST", console.PathLookup, badView, problem.BadRequest)

	// Refusals, each typed.
	desk.wantProblem(t, "POST", console.PathLookup, console.LookupRequest{Service: lab.CivilStatus.String(), Path: "/citizens/{id}", Params: map[string]string{"id": "0042"}}, problem.BadRequest)
	desk.wantProblem(t, "POST", console.PathLookup, console.LookupRequest{Service: "MA/GOV/CNSS/rsu", Path: "/x"}, problem.NotAllowed)
	desk.wantProblem(t, "GET", console.PathOffice, nil, problem.NotAllowed)
	if out, code := babCmd(t, "console", "revoke", "--config", l.Consumer.Config, "desk-3"); code != 0 {
		t.Fatalf("bab console revoke: %d %s", code, out)
	}
	desk.wantProblem(t, "GET", console.PathWhoAmI, nil, problem.Unauthenticated)

	// Office IT on the server, through the socket.
	it := socketConsole(l.Consumer)
	var office console.Office
	it.call(t, "GET", console.PathOffice, nil, &office, 200)
	if len(office.Tunnels) == 0 || !office.Tunnels[0].Connected || len(office.Consoles) != 1 || !office.Consoles[0].Revoked || len(office.Findings) == 0 {
		t.Errorf("office view %+v", office)
	}
}

// TestConsolePairingRefusals: a wrong code, a reused code and an expired
// code are each refused with a message that says what to do, and a code
// whose fingerprint is not the appliance's makes the console refuse to
// talk to it.
func TestConsolePairingRefusals(t *testing.T) {
	l := newLab(t, lab.Options{})
	code := pairCode(t, l.Consumer, "clerk", "10m")
	wrong := code[:5] + flip(code[5]) + code[6:]
	if _, err := pairConsole(l.Consumer, wrong, "desk-1"); err == nil || !strings.Contains(err.Error(), "not known") {
		t.Errorf("wrong code: %v", err)
	}
	if _, err := pairConsole(l.Consumer, code, "desk-1"); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if _, err := pairConsole(l.Consumer, code, "desk-2"); err == nil || !strings.Contains(err.Error(), "used already") {
		t.Errorf("reused code: %v", err)
	}
	short := pairCode(t, l.Consumer, "clerk", "1s")
	time.Sleep(1500 * time.Millisecond) // the code's validity, not a condition to poll
	if _, err := pairConsole(l.Consumer, short, "desk-4"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired code: %v", err)
	}
	other := pairCode(t, l.Consumer, "clerk", "10m")
	forged := other[:10] + "-AAAA-AAAA-AAAA" // someone else's appliance
	if _, err := pairConsole(l.Consumer, forged, "desk-5"); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("a code for another appliance: %v", err)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func hasActivity(list []console.Activity, id, who string) bool {
	for _, a := range list {
		if a.RequestID == id && strings.Contains(a.Who, who) && a.Outcome == "ok" {
			return true
		}
	}
	return false
}

var codePattern = regexp.MustCompile(`[A-Z2-7]{4}(-[A-Z2-7]{4}){4}`)

// pairCode runs bab console pair on a's server, as office IT would.
func pairCode(t *testing.T, a *lab.Appliance, role, valid string) string {
	t.Helper()
	out, code := babCmd(t, "console", "pair", "--config", a.Config, "--role", role, "--valid", valid)
	c := codePattern.FindString(out)
	if code != 0 || c == "" {
		t.Fatalf("bab console pair: %d %s", code, out)
	}
	return c
}

// testConsole calls the console API as a console does.
type testConsole struct {
	base   string
	client *http.Client
	user   string
}

// pairConsole pairs a console named name with code, as bab-console does:
// it refuses an appliance whose console CA is not the one the code names,
// and returns a console that calls with the certificate it received.
func pairConsole(a *lab.Appliance, code, name string) (*testConsole, error) {
	_, fp, err := console.SplitCode(code)
	if err != nil {
		return nil, err
	}
	check := &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		ca, err := x509.ParseCertificate(raw[len(raw)-1])
		if err != nil || console.CodeFingerprint(ca.RawSubjectPublicKeyInfo) != fp {
			return errors.New("the appliance's console CA does not have the code's fingerprint")
		}
		return nil
	}}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	body, _ := json.Marshal(console.PairRequest{Code: code, Name: name, CSR: csr})
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: check}}
	resp, err := hc.Post(a.ConsoleURL+console.PathPair, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var p problem.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return nil, fmt.Errorf("%d %s: %s", resp.StatusCode, p.Code, p.Detail)
	}
	var pr console.PairResponse
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(pr.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	tc := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{{Certificate: pr.Chain, PrivateKey: key}}}
	return &testConsole{base: a.ConsoleURL, user: "a.benali", client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}}, nil
}

// socketConsole is a console on the server, reaching a through its
// console socket (as root: office IT).
func socketConsole(a *lab.Appliance) *testConsole {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.ConsoleSocket)
	}}
	return &testConsole{base: "http://bab", client: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
}

func (c *testConsole) do(t *testing.T, method, path string, in any) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		_ = json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, c.base+path, &body)
	if c.user != "" {
		req.Header.Set(console.HeaderUser, c.user)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

func (c *testConsole) call(t *testing.T, method, path string, in, out any, want int) {
	t.Helper()
	resp, b := c.do(t, method, path, in)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
}

func (c *testConsole) wantProblem(t *testing.T, method, path string, in any, code problem.Code) {
	t.Helper()
	resp, b := c.do(t, method, path, in)
	var p problem.Problem
	if err := json.Unmarshal(b, &p); err != nil || p.Code != code {
		t.Errorf("%s %s: %d %s, want %s", method, path, resp.StatusCode, b, code)
	}
}

// TestConsoleSocketIsForItsGroup plays local users of the server: a member
// of the console group uses the console as a clerk, under their own
// account; a member of the admin group gets office IT; anyone else cannot
// connect to the console socket at all.
func TestConsoleSocketIsForItsGroup(t *testing.T) {
	clerks, admins := newLocalGroup(t), newLocalGroup(t)
	l := newLab(t, lab.Options{ConsoleGroup: clerks.Name, AdminGroup: admins.Name})
	a := l.Consumer
	clerk, it, mallory := newLocalUser(t, clerks), newLocalUser(t, clerks, admins), newLocalUser(t)
	traversable(t, a.ConsoleSocket)
	whoami := func(u localUser) (console.WhoAmI, int) {
		out, code := runAs(t, u, "curl", "-sS", "--unix-socket", a.ConsoleSocket, "http://bab"+console.PathWhoAmI)
		var w console.WhoAmI
		_ = json.Unmarshal([]byte(out), &w)
		return w, code
	}
	if w, code := whoami(clerk); code != 0 || w.User != clerk.Name || w.Role != console.RoleClerk || w.System != "console/local/"+clerk.Name {
		t.Errorf("a member of the console group: exit %d, %+v", code, w)
	}
	if w, code := whoami(it); code != 0 || w.Role != console.RoleOfficeIT {
		t.Errorf("a member of the admin group: exit %d, %+v, want office-it", code, w)
	}
	if _, code := whoami(mallory); code != 7 {
		t.Errorf("a user outside the console group: curl exit %d, want 7 (could not connect)", code)
	}
}

// TestConsoleClientAgainstTheAppliance runs the client that bab-console
// uses against a real appliance: pairing over HTTPS (checking the CA the
// code names), then the calls of each screen, and the socket on the
// server.
func TestConsoleClientAgainstTheAppliance(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := console.Pair(ctx, l.Consumer.ConsoleURL, pairCode(t, l.Consumer, "clerk", "10m"), "desk-7", t.TempDir())
	if err != nil {
		t.Fatalf("pair: %v", err)
	}
	c, err := p.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	who, err := c.WhoAmI(ctx)
	if err != nil || who.Console != "desk-7" || who.Role != console.RoleClerk {
		t.Fatalf("whoami: %+v %v", who, err)
	}
	if st, err := c.Status(ctx); err != nil || !st.Connected || st.PolicyVersion == 0 {
		t.Errorf("status: %+v %v", st, err)
	}
	cat, err := c.Catalog(ctx)
	if err != nil || len(cat) != 2 {
		t.Fatalf("catalog: %+v %v", cat, err)
	}
	res, err := c.Lookup(ctx, console.LookupRequest{Service: cat[0].ID, Path: cat[0].Operations[0].Path, Params: map[string]string{"id": "7"}})
	if err != nil || res.Status != 200 || !bytes.Contains(res.Body, []byte(who.System)) {
		t.Fatalf("lookup: %+v %v", res, err)
	}
	if _, err := c.Lookup(ctx, console.LookupRequest{Service: cat[0].ID, Path: cat[0].Operations[0].Path, Params: map[string]string{"id": "x"}}); err == nil {
		t.Error("a lookup the form refuses went through")
	} else if pe, ok := errors.AsType[*console.ProblemError](err); !ok || pe.Problem.Code != problem.BadRequest {
		t.Errorf("a lookup the form refuses: %v, want a bad_request problem", err)
	}
	acts, err := c.Activity(ctx, console.ActivityFilter{})
	if err != nil || !hasActivity(acts, res.RequestID, who.System) {
		t.Errorf("activity: %+v %v", acts, err)
	}
	local, err := console.DialSocket(l.Consumer.ConsoleSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if office, err := local.Office(ctx); err != nil || len(office.Consoles) != 1 || office.Consoles[0].Name != "desk-7" {
		t.Errorf("office IT on the socket: %+v %v", office, err)
	}
}

// TestConsolePairingGuessesPause plays someone on the office network who
// guesses pairing codes: after ten wrong codes within a minute, pairing is
// paused, so that even the right code is refused for that minute.
func TestConsolePairingGuessesPause(t *testing.T) {
	l := newLab(t, lab.Options{})
	code := pairCode(t, l.Consumer, "clerk", "10m")
	wrong := code[:5] + flip(code[5]) + code[6:]
	for i := range 10 {
		if _, err := pairConsole(l.Consumer, wrong, fmt.Sprintf("guess-%d", i)); err == nil || !strings.Contains(err.Error(), "not known") {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := pairConsole(l.Consumer, code, "desk-1"); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("the right code after ten wrong guesses: %v, want pairing paused", err)
	}
}
