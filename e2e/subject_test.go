package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// Two citizens of the lab's subjects, and what of them must never be in
// the exchange's state file.
const (
	subjectA = "MA-CIN:AB123456"
	subjectB = "MA-CIN:CD654321"
)

// investigation is the purpose of the confidential rule the subject tests
// add: its requests are held back from subject reports for 180 days.
const investigation = "investigation"

// withInvestigations puts first a rule letting the commune look up
// citizens for an investigation, confidential for 180 days.
func withInvestigations(b *policy.Bundle) {
	b.Rules = append([]policy.Rule{{Consumer: lab.Commune, Service: lab.CivilStatus, Methods: []string{"GET"},
		PathPrefixes: []string{"/citizens/"}, Purpose: investigation, ConfidentialFor: 180 * 24 * 3600}}, b.Rules...)
}

// gw sends a GET of path (the service's identifier and the path in it)
// through the commune's gateway, with the headers given.
func gw(t *testing.T, l *lab.Lab, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", l.Consumer.GatewayURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.Consumer.Token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return send(t, req)
}

// lookup makes a GET through the commune's gateway with the headers
// given, and returns its request id; it fails the test unless it is
// answered 200.
func lookup(t *testing.T, l *lab.Lab, path string, hdr map[string]string) string {
	t.Helper()
	resp, body := gw(t, l, path, hdr)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s %v: %d %s", path, hdr, resp.StatusCode, body)
	}
	return resp.Header.Get("Bab-Request-Id")
}

// subjectReport runs bab-exchange trace subject and reads its JSON.
func subjectReport(t *testing.T, l *lab.Lab, subject string, extra ...string) exchange.SubjectReport {
	t.Helper()
	out, err := exchangeCmd(l, append([]string{"trace", "subject", "--id", subject, "-o", "json"}, extra...)...)
	if err != nil {
		t.Fatalf("trace subject: %v\n%s", err, out)
	}
	var rep exchange.SubjectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("trace subject: %v\n%s", err, out)
	}
	return rep
}

func requestIDs(rep exchange.SubjectReport) []string {
	var out []string
	for _, e := range rep.Entries {
		out = append(out, e.RequestID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// TestSubjectReport: the lab looks up two citizens, and once no one; the
// report of one citizen lists exactly the lookups about them (their
// administration, service, purpose, outcome), holds back the one a
// confidential rule made until its date (shown with
// --include-confidential), and finds lookups made before and after a
// rotation of the subject key. The exchange's state file, the subject key
// file and the exchange's log never hold the identifiers.
func TestSubjectReport(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, withInvestigations)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	family := "/" + lab.FamilyRecord.String() + "/families/12?view=full"
	citizen := func(n int) string { return fmt.Sprintf("/%s/citizens/%d", lab.CivilStatus, n) }

	resp, body := gw(t, l, citizen(11), map[string]string{"Bab-Subject": subjectA})
	var rec map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil || rec["subject"] != subjectA {
		t.Fatalf("the backend did not get the subject as Bab-Subject: %d %s", resp.StatusCode, body)
	}
	a1 := resp.Header.Get("Bab-Request-Id")
	a2 := lookup(t, l, family, map[string]string{"Bab-Subject": subjectA, "Bab-Purpose": lab.FamilyPurpose})
	b1 := lookup(t, l, citizen(13), map[string]string{"Bab-Subject": subjectB})
	none := lookup(t, l, citizen(14), nil)
	before := time.Now()
	secret := lookup(t, l, citizen(15), map[string]string{"Bab-Subject": subjectA, "Bab-Purpose": investigation})
	after := time.Now()

	var rep exchange.SubjectReport
	waitFor(t, 10*time.Second, func() error {
		rep = subjectReport(t, l, subjectA)
		if got, want := requestIDs(rep), sorted(a1, a2); !slices.Equal(got, want) || rep.HeldBack != 1 {
			return fmt.Errorf("report of A lists %v (%d held back), want %v and 1 held back", got, rep.HeldBack, want)
		}
		return nil
	})
	for _, e := range rep.Entries {
		if e.Member != lab.Commune.String() || e.MemberName != "Commune de Rabat" || e.Consumer != lab.CommuneHQ.String() || e.Outcome != "ok" {
			t.Errorf("report entry %+v", e)
		}
		if e.RequestID == a2 && (e.Service != lab.FamilyRecord.String() || e.Purpose != lab.FamilyPurpose) {
			t.Errorf("the family record's entry %+v", e)
		}
	}
	if lo, hi := before.Add(180*24*time.Hour), after.Add(180*24*time.Hour+time.Second); rep.HeldUntil.Before(lo) || rep.HeldUntil.After(hi) {
		t.Errorf("held back until %s, want 180 days after the lookup (%s to %s)", rep.HeldUntil, lo, hi)
	}
	out, err := exchangeCmd(l, "trace", "subject", "--id", subjectA)
	if err != nil || !strings.Contains(out, "2 request(s) about this MA-CIN subject") || !strings.Contains(out, "Commune de Rabat (MA/MUN/RABAT)") ||
		!strings.Contains(out, "1 more request(s), made under confidential rules, are held back from this report until "+rep.HeldUntil.Format(time.DateOnly)) ||
		strings.Contains(out, secret) {
		t.Errorf("trace subject: %v\n%s", err, out)
	}
	t.Logf("trace subject:\n%s", out)
	all := subjectReport(t, l, subjectA, "--include-confidential")
	if got, want := requestIDs(all), sorted(a1, a2, secret); !slices.Equal(got, want) {
		t.Errorf("with --include-confidential: %v, want %v", got, want)
	}
	for _, e := range all.Entries {
		if (e.RequestID == secret) != !e.ConfidentialUntil.IsZero() || e.RequestID == secret && e.Purpose != investigation {
			t.Errorf("entry %+v: only the investigation's is marked confidential", e)
		}
	}
	if got := requestIDs(subjectReport(t, l, subjectB)); !slices.Equal(got, []string{b1}) {
		t.Errorf("report of B lists %v, want %v", got, []string{b1})
	}
	if got := requestIDs(subjectReport(t, l, "MA-CIN:EF000000")); len(got) != 0 {
		t.Errorf("report of someone no one looked up lists %v", got)
	}
	if out, err := exchangeCmd(l, "trace", "subject", "--id", "MA-CIN:ab123456"); err == nil || strings.Contains(out, "ab123456") {
		t.Errorf("a malformed subject: %v\n%s", err, out)
	}

	// A new subject key: lookups before and after it are both found.
	if out, err := exchangeCmd(l, "trace", "subject-key", "rotate"); err != nil || !strings.Contains(out, "Subject key 2") {
		t.Fatalf("subject-key rotate: %v\n%s", err, out)
	}
	a3 := lookup(t, l, citizen(16), map[string]string{"Bab-Subject": subjectA})
	waitFor(t, 10*time.Second, func() error {
		if got, want := requestIDs(subjectReport(t, l, subjectA)), sorted(a1, a2, a3); !slices.Equal(got, want) {
			return fmt.Errorf("report of A after the rotation lists %v, want %v", got, want)
		}
		return nil
	})
	var recent []store.LoggedEntry
	if err := getJSON(l, "/v1/trace?limit=10", &recent); err != nil {
		t.Fatal(err)
	}
	keyOf := map[string]uint32{}
	for _, e := range recent {
		keyOf[e.ID] = e.SubjectKey
	}
	if keyOf[a1] != 1 || keyOf[a3] != 2 || keyOf[none] != 0 {
		t.Errorf("subject keys of the records: %v (a1 %s, a3 %s, none %s)", keyOf, a1, a3, none)
	}
	if out, err := exchangeCmd(l, "trace", "subject-key", "ls"); err != nil || !strings.Contains(out, "retired on") || !strings.Contains(out, "current") {
		t.Errorf("subject-key ls: %v\n%s", err, out)
	}
	// Every report is in the audit log, with the scheme and never the
	// identifier.
	var audit []exchange.AuditRecord
	if err := getJSON(l, "/v1/audit?limit=50", &audit); err != nil {
		t.Fatal(err)
	}
	reports := 0
	for _, r := range audit {
		if r.Path == exchange.PathSubjectReport && r.Args["scheme"] == "MA-CIN" && r.Args["subject_hash"] != "" {
			reports++
		}
	}
	if reports < 6 {
		t.Errorf("%d subject reports in the audit log, want at least 6", reports)
	}

	// Stopped, the exchange has written everything: no identifier in its
	// state file (records, indexes, audit log, free pages), its subject
	// key file or its log.
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"state file": filepath.Join(l.Exchange.StateDir, store.FileName), "subject key file": filepath.Join(l.Exchange.StateDir, config.SubjectKeyName)}
	for what, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, s := range []string{"AB123456", "CD654321", "ab123456"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the exchange's %s holds %q", what, s)
			}
		}
		if what == "state file" && !bytes.Contains(raw, []byte(a3)) {
			t.Error("the state file does not hold the last request's id: the grep above looks at the wrong file")
		}
	}
	if fi, err := os.Stat(files["subject key file"]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("subject key file: %v, %v", fi, err)
	}
	for _, s := range []string{"AB123456", "CD654321"} {
		if strings.Contains(l.Exchange.Log(), s) {
			t.Errorf("the exchange's log holds %q", s)
		}
	}
}

// TestSubjectRefusedAtEveryHop: a service that requires its subject is
// refused without one, with a malformed one or one of a scheme it does not
// accept, at the consumer's gateway; and, when a hand-made consumer skips
// that check, at the exchange and at the provider (played through a rogue
// exchange that lets anything through). No refusal and no log repeats the
// identifier, and the backend is never reached.
func TestSubjectRefusedAtEveryHop(t *testing.T) {
	l := newLab(t, lab.Options{})
	family := "/" + lab.FamilyRecord.String() + "/families/12"
	purpose := map[string]string{"Bab-Purpose": lab.FamilyPurpose}
	with := func(subject string) map[string]string {
		return map[string]string{"Bab-Purpose": lab.FamilyPurpose, "Bab-Subject": subject}
	}
	before := l.Backend.Requests.Load()
	resp, body := gw(t, l, family, purpose)
	p := wantProblem(t, resp, body, problem.SubjectRequired, "consumer")
	if !strings.Contains(p.Detail, "Bab-Subject: SCHEME:ID") || !strings.Contains(p.Detail, "MA-CIN") {
		t.Errorf("subject_required detail: %s", p.Detail)
	}
	for _, c := range []struct{ subject, says string }{
		{"MA-CIN:xy987654", "lower-case letter"},
		{"XY987654", "no ':'"},
		{"FR-NIR:1850578006048", "accepts subjects in the scheme MA-CIN only"},
	} {
		resp, body := gw(t, l, family, with(c.subject))
		p := wantProblem(t, resp, body, problem.BadRequest, "consumer")
		if !strings.Contains(p.Detail, c.says) || strings.Contains(string(body), "987654") || strings.Contains(string(body), "1850578006048") {
			t.Errorf("Bab-Subject %s: %s", c.subject, body)
		}
	}
	// An optional subject may be left out, not malformed.
	lookup(t, l, "/"+lab.CivilStatus.String()+"/citizens/3", nil)
	resp, body = gw(t, l, "/"+lab.CivilStatus.String()+"/citizens/3", map[string]string{"Bab-Subject": "MA-CIN:xy987654"})
	wantProblem(t, resp, body, problem.BadRequest, "consumer")
	if got := l.Backend.Requests.Load() - before; got != 1 {
		t.Fatalf("backend reached %d times, want 1 (the lookup without a subject)", got)
	}
	if log := l.Consumer.Log(); strings.Contains(log, "987654") || strings.Contains(log, "1850578006048") {
		t.Error("the consumer's log holds an identifier")
	}

	// A consumer that skips its gateway's check: the exchange refuses.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rt := dialAs(t, l, l.Consumer)
	head := func(id string) wire.RequestHead {
		return wire.RequestHead{ID: id, Service: lab.FamilyRecord.String(), Method: "GET", Path: "/families/12", Purpose: lab.FamilyPurpose, Timeout: 5 * time.Second}
	}
	ft, payload := rt.seal.roundTripAbout(t, rt.conn, head("x0"), subjectA)
	if ft != wire.FrameResponseHead {
		t.Fatalf("control: a request with its subject, made by hand: %s %s", ft, payload)
	}
	ft, payload = rt.seal.roundTripAbout(t, rt.conn, head("x1"), "")
	wantWireError(t, ft, payload, string(problem.SubjectRequired), "exchange")
	ft, payload = rt.seal.roundTripAbout(t, rt.conn, head("x2"), "MA-CIN:xy987654")
	wantWireError(t, ft, payload, string(problem.BadRequest), "exchange")
	ft, payload = rt.seal.roundTripAbout(t, rt.conn, head("x3"), "FR-NIR:1850578006048")
	wantWireError(t, ft, payload, string(problem.BadRequest), "exchange")

	// And an exchange that lets anything through: the provider refuses.
	rt.conn.CloseWithError(0, "")
	rogue := startRogue(t, l)
	s := rogue.accept(t, lab.RegistryDC.String())
	at := head("r0")
	at.ConsumerAppliance = lab.CommuneHQ.String()
	if ft, payload := rt.seal.roundTripAbout(t, s.conn, at, subjectA); ft != wire.FrameResponseHead {
		t.Fatalf("control: a request with its subject through the rogue exchange: %s %s", ft, payload)
	}
	for _, c := range []struct {
		subject string
		code    problem.Code
	}{{"", problem.SubjectRequired}, {"MA-CIN:xy987654", problem.BadRequest}, {"FR-NIR:1850578006048", problem.BadRequest}} {
		at.ID = fmt.Sprintf("r-%d", len(c.subject))
		ft, payload := rt.seal.roundTripAbout(t, s.conn, at, c.subject)
		wantWireError(t, ft, payload, string(c.code), "provider")
		if bytes.Contains(payload, []byte("987654")) || bytes.Contains(payload, []byte("1850578006048")) {
			t.Errorf("the provider's refusal repeats the identifier: %s", payload)
		}
	}
	if got := l.Backend.Requests.Load() - before; got != 3 {
		t.Fatalf("backend reached %d times, want 3 (the lookup without a subject and the two controls)", got)
	}
	for who, log := range map[string]string{"provider": l.Provider.Log(), "exchange": l.Exchange.Log()} {
		if strings.Contains(log, "987654") || strings.Contains(log, "1850578006048") || strings.Contains(log, "AB123456") {
			t.Errorf("the %s's log holds an identifier", who)
		}
	}
}

// memberRecords runs bab trace query on a and reads its JSON.
func memberRecords(t *testing.T, a *lab.Appliance, args ...string) []tracelog.TraceRecord {
	t.Helper()
	out, code := babCmd(t, append([]string{"trace", "query", "--config", a.Config, "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("bab trace query: exit %d\n%s", code, out)
	}
	var got struct {
		Member  string                 `json:"member"`
		Records []tracelog.TraceRecord `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Member != a.ID.Member.String() {
		t.Fatalf("bab trace query: %v\n%s", err, out)
	}
	return got.Records
}

func traceIDs(recs []tracelog.TraceRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// TestMemberTraceQuery: each member asks the exchange, through its own
// appliance, for its own transactions: the commune sees the lookups it
// made, the registry the same lookups, which it served, and one it made of
// its own service, which the commune does not see. An appliance that
// asks, by hand, for another member's records gets none.
func TestMemberTraceQuery(t *testing.T) {
	l := newLab(t, lab.Options{})
	ctx := context.Background()
	v, err := l.Push(ctx, func(b *policy.Bundle) {
		b.Rules = append(b.Rules, policy.Rule{Consumer: lab.Registry, Service: lab.CivilStatus, Methods: []string{"GET"}, PathPrefixes: []string{"/citizens/"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	ids := []string{
		lookup(t, l, "/"+lab.CivilStatus.String()+"/citizens/21", map[string]string{"Bab-Subject": subjectA}),
		lookup(t, l, "/"+lab.CivilStatus.String()+"/citizens/22", nil),
	}
	// The registry looks up its own records, through its own appliance:
	// a transaction of the registry alone.
	req, _ := http.NewRequest("GET", l.Provider.GatewayURL+"/"+lab.CivilStatus.String()+"/citizens/31", nil)
	req.Header.Set("Authorization", "Bearer "+l.Provider.Token)
	resp, body := send(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("the registry's own lookup: %d %s", resp.StatusCode, body)
	}
	own := resp.Header.Get("Bab-Request-Id")

	var registry []tracelog.TraceRecord
	waitFor(t, 10*time.Second, func() error {
		registry = memberRecords(t, l.Provider)
		if got, want := traceIDs(registry), append(slices.Clone(ids), own); !slices.Equal(got, want) {
			return fmt.Errorf("the registry's records: %v, want the commune's lookups and its own, %v", got, want)
		}
		return nil
	})
	for _, r := range registry {
		if !r.SubjectHash.IsZero() || r.SubjectKey != 0 {
			t.Errorf("record %d carries the subject's hash to a member", r.Index)
		}
	}
	if got := traceIDs(memberRecords(t, l.Consumer, "--since", "1h")); !slices.Equal(got, ids) {
		t.Errorf("the commune's records: %v, want %v (and not the registry's own)", got, ids)
	}
	if got := traceIDs(memberRecords(t, l.Consumer, "--service", lab.FamilyRecord.String())); len(got) != 0 {
		t.Errorf("the commune's family record lookups: %v, want none", got)
	}
	out, code := babCmd(t, "trace", "query", "--config", l.Consumer.Config)
	if code != 0 || !strings.Contains(out, ids[0]) || !strings.Contains(out, " consumer ") || strings.Contains(out, own) {
		t.Errorf("bab trace query: exit %d\n%s", code, out)
	}
	t.Logf("bab trace query:\n%s", out)
	// Ops see the same of any member.
	out, err = exchangeCmd(l, "trace", "query", "--member", lab.Commune.String(), "-o", "json")
	var page store.MemberPage
	if err != nil || json.Unmarshal([]byte(out), &page) != nil || len(page.Records) != 2 || page.Records[0].ID != ids[0] || page.Records[1].ID != ids[1] {
		t.Errorf("bab-exchange trace query --member: %v\n%s", err, out)
	}

	// By hand on the commune's control stream: the registry's records are
	// refused, the commune's own come, without the registry's.
	if err := l.Consumer.Stop(); err != nil {
		t.Fatal(err)
	}
	rt := dialAs(t, l, l.Consumer)
	ask := func(q tracelog.TraceQuery) tracelog.TraceRecords {
		t.Helper()
		if err := wire.WriteJSON(rt.ctrl, wire.FrameTraceQuery, q); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(10 * time.Second)
		for {
			select {
			case f := <-rt.frames:
				var ans tracelog.TraceRecords
				if f.ft != wire.FrameTraceRecords || wire.DecodeJSON(f.ft, f.payload, &ans) != nil || ans.ID != q.ID {
					continue
				}
				return ans
			case <-deadline:
				t.Fatalf("no answer to trace query %d", q.ID)
			}
		}
	}
	if ans := ask(tracelog.TraceQuery{ID: 7, Member: lab.Registry.String()}); ans.Error == nil || ans.Error.Code != string(problem.NotAllowed) || len(ans.Records) != 0 {
		t.Fatalf("the commune asking for the registry's records: %+v", ans)
	}
	if ans := ask(tracelog.TraceQuery{ID: 8}); ans.Error != nil || !slices.Equal(traceIDs(ans.Records), ids) {
		t.Fatalf("the commune asking for its own records: %v, %v", traceIDs(ans.Records), ans.Error)
	}
}
