package exchange

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/adminsock"
)

// adminChain is the admin socket's handler chain, as serveAdmin builds it,
// in front of a handler that notes whether it ran.
// The handler checks, for a change, that its audit record is stored
// before it acts.
func adminChain(t *testing.T) (*Exchange, http.Handler, *bool) {
	x, h, ran, _ := adminChainLog(t)
	return x, h, ran
}

func adminChainLog(t *testing.T) (*Exchange, http.Handler, *bool, *bytes.Buffer) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := new(bytes.Buffer)
	x := &Exchange{log: slog.New(slog.NewTextHandler(logs, nil)), store: st}
	acc := adminAccess{uid: 990, gid: 990, group: "bab-exchange", readGID: 991, readGroup: "bab-exchange-ro"}
	ran := new(bool)
	h := adminHosts.Guard(x.audited(acc.authorize(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*ran = true
		if !readOnly(r.Method) {
			recs, err := st.Audit(1)
			if err != nil || len(recs) != 1 || recs[0].Outcome != "unfinished" || recs[0].UID != callerFrom(r).UID {
				t.Errorf("while %s %s runs, the newest audit record is %+v (%v); want its own, unfinished", r.Method, r.URL.Path, recs, err)
			}
		}
		auditArg(r, "appliance", "MA/MUN/RABAT:hq")
		writeJSON(w, http.StatusOK, struct{}{})
	}))))
	return x, h, ran, logs
}

// call sends method path as c.
func call(h http.Handler, c caller, method, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://exchange"+path, nil)
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestAdminRoles plays each kind of caller against a read and a change:
// ops may both, the read-only group only the read, anyone else neither.
// Every change attempt, refused or not, is audited with the caller's uid.
func TestAdminRoles(t *testing.T) {
	x, h, ran, logs := adminChainLog(t)
	ops := caller{Peer: adminsock.Peer{UID: 1001, GID: 1001, Groups: []uint32{990}}, User: "alice", Role: roleOps}
	ro := caller{Peer: adminsock.Peer{UID: 1002, GID: 1002, Groups: []uint32{991}}, User: "bob", Role: roleReadOnly}
	none := caller{Peer: adminsock.Peer{UID: 1003, GID: 1003}, User: "eve", Role: roleNone}
	for _, c := range []struct {
		who    caller
		method string
		code   int
	}{
		{ops, "GET", 200}, {ops, "POST", 200},
		{ro, "GET", 200}, {ro, "HEAD", 200}, {ro, "POST", 403}, {ro, "DELETE", 403},
		{none, "GET", 403}, {none, "POST", 403},
	} {
		*ran = false
		w := call(h, c.who, c.method, "/v1/revoke/MA/MUN/RABAT:hq")
		if w.Code != c.code || *ran != (c.code == 200) {
			t.Errorf("%s %s as %s (%s): %d, handler ran %v; want %d", c.method, "/v1/revoke", c.who.User, c.who.Role, w.Code, *ran, c.code)
		}
		if c.who.Role == roleReadOnly && c.code == 403 && !strings.Contains(w.Body.String(), "read-only group bab-exchange-ro") {
			t.Errorf("refusal of the read-only group does not say why: %s", w.Body.String())
		}
	}
	recs, err := x.store.Audit(100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		user    string
		outcome string
	}{{"eve", "forbidden"}, {"bob", "read_only"}, {"bob", "read_only"}, {"alice", "ok"}}
	if len(recs) != len(want) {
		t.Fatalf("audit records %+v, want one per change attempt (%d)", recs, len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.User != w.user || r.Outcome != w.outcome || r.Path != "/v1/revoke/MA/MUN/RABAT:hq" {
			t.Errorf("record %d: %+v, want %s %s", i, r, w.user, w.outcome)
		}
	}
	if recs[3].Args["appliance"] != "MA/MUN/RABAT:hq" || recs[3].UID != 1001 || recs[3].Status != 200 {
		t.Errorf("the record of the action that ran: %+v", recs[3])
	}
	// The journal gets each record too.
	for _, want := range []string{
		`level=INFO msg="ops action" subsys=audit seq=1 uid=1001 user=alice pid=0 role=ops method=POST path=/v1/revoke/MA/MUN/RABAT:hq status=200 outcome=ok`,
		`level=WARN msg="ops action" subsys=audit seq=2 uid=1002 user=bob pid=0 role=read-only method=POST path=/v1/revoke/MA/MUN/RABAT:hq status=403 outcome=read_only`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestAdminNoActionWithoutAudit: when the audit log cannot be written,
// ops actions are refused before they run.
func TestAdminNoActionWithoutAudit(t *testing.T) {
	x, h, ran := adminChain(t)
	x.store.Close()
	ops := caller{Peer: adminsock.Peer{UID: 0}, User: "root", Role: roleOps}
	w := call(h, ops, "POST", "/v1/revoke/MA/MUN/RABAT:hq")
	if w.Code != http.StatusServiceUnavailable || *ran || !strings.Contains(w.Body.String(), "audit_unavailable") {
		t.Errorf("a change while the audit log cannot be written: %d %s, handler ran %v", w.Code, w.Body.String(), *ran)
	}
}

// TestAdminSocketHost: the admin socket answers only its own name.
func TestAdminSocketHost(t *testing.T) {
	_, h, ran := adminChain(t)
	r := httptest.NewRequest("POST", "http://attacker.example/v1/revoke/MA/MUN/RABAT:hq", nil)
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, caller{Role: roleOps}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMisdirectedRequest || *ran {
		t.Errorf("a request for another host: %d, handler ran %v", w.Code, *ran)
	}
}

func TestRoleOf(t *testing.T) {
	a := adminAccess{uid: 990, gid: 990, group: "bab-exchange", readGID: 991, readGroup: "bab-exchange-ro"}
	for _, c := range []struct {
		p    adminsock.Peer
		want role
	}{
		{adminsock.Peer{UID: 0, GID: 0}, roleOps},
		{adminsock.Peer{UID: 990, GID: 990}, roleOps},
		{adminsock.Peer{UID: 1001, GID: 1001, Groups: []uint32{990}}, roleOps},
		{adminsock.Peer{UID: 1001, GID: 990}, roleOps},
		{adminsock.Peer{UID: 1001, GID: 1001, Groups: []uint32{991, 990}}, roleOps},
		{adminsock.Peer{UID: 1002, GID: 1002, Groups: []uint32{991}}, roleReadOnly},
		{adminsock.Peer{UID: 1003, GID: 1003, Groups: []uint32{27, 100}}, roleNone},
		{adminsock.Peer{UID: 65534, GID: 65534}, roleNone},
	} {
		if got := a.roleOf(c.p); got != c.want {
			t.Errorf("roleOf(%+v) = %s, want %s", c.p, got, c.want)
		}
	}
	a.readGroup = "" // no read-only group: its gid means nothing
	if got := a.roleOf(adminsock.Peer{UID: 1002, GID: 1002, Groups: []uint32{991}}); got != roleNone {
		t.Errorf("without a read-only group, a member of gid 991 is %s", got)
	}
}

// TestAdminUnknownCaller: a caller the kernel did not name is refused,
// and recorded as uid -1, never as root.
func TestAdminUnknownCaller(t *testing.T) {
	x, h, ran := adminChain(t)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "http://exchange/v1/revoke/MA/MUN/RABAT:hq", nil))
	if w.Code != http.StatusForbidden || *ran {
		t.Errorf("a change by an unknown caller: %d, handler ran %v", w.Code, *ran)
	}
	recs, err := x.store.Audit(1)
	if err != nil || len(recs) != 1 || recs[0].UID != noID || recs[0].Role != "none" || recs[0].Outcome != "forbidden" {
		t.Errorf("the record of an unknown caller's attempt: %+v %v", recs, err)
	}
}
