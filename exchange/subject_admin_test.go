package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/adminsock"
)

// TestSubjectReportHandler: a report lists the records about the subject
// and nobody else's, holds back a confidential one until its date (shown
// on demand), is refused to the read-only group, and is audited with the
// subject's hash, never the identifier.
func TestSubjectReportHandler(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	k, err := loadSubjectKeys(st, filepath.Join(dir, "subject.key"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	x := &Exchange{cfg: &config.Config{TraceRetention: 90 * 24 * time.Hour}, log: quiet, store: st, subjects: k}
	now := time.Now().UTC()
	rec := func(id, subject string, until time.Time) store.TraceEntry {
		e := store.TraceEntry{At: now, ID: id, Consumer: "MA/MUN/RABAT:hq", Provider: "MA/GOV/ETATCIVIL:dc1", Service: "MA/GOV/ETATCIVIL/civil-status",
			Method: "GET", Outcome: "ok", ConfidentialUntil: until}
		if subject != "" {
			e.SubjectKey, e.SubjectHash = k.hash(subject)
		}
		return e
	}
	later := now.Add(48 * time.Hour).Truncate(time.Second)
	if _, err := st.AppendTrace([]store.TraceEntry{rec("a1", "MA-CIN:XY987654", time.Time{}), rec("b1", "MA-CIN:XY987655", time.Time{}),
		rec("n1", "", time.Time{}), rec("a2", "MA-CIN:XY987654", later), rec("a3", "MA-CIN:XY987654", now.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	x.subjectHandlers(mux)
	acc := adminAccess{uid: 990, gid: 990, group: "bab-exchange", readGID: 991, readGroup: "bab-exchange-ro"}
	h := x.audited(acc.authorize(mux))
	ask := func(c caller, req SubjectRequest) (*httptest.ResponseRecorder, SubjectReport) {
		body, _ := json.Marshal(req)
		r := httptest.NewRequest("POST", "http://exchange"+PathSubjectReport, bytes.NewReader(body))
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var rep SubjectReport
		_ = json.Unmarshal(w.Body.Bytes(), &rep)
		return w, rep
	}
	ops := caller{Peer: adminsock.Peer{UID: 1001}, User: "alice", Role: roleOps}
	ro := caller{Peer: adminsock.Peer{UID: 1002, Groups: []uint32{991}}, User: "bob", Role: roleReadOnly}

	w, rep := ask(ops, SubjectRequest{Subject: "MA-CIN:XY987654"})
	if w.Code != 200 || len(rep.Entries) != 2 || rep.Entries[0].RequestID != "a1" || rep.Entries[1].RequestID != "a3" ||
		rep.HeldBack != 1 || !rep.HeldUntil.Equal(later) || !rep.NextRelease.Equal(later) {
		t.Fatalf("report: %d %+v", w.Code, rep)
	}
	if e := rep.Entries[0]; e.Member != "MA/MUN/RABAT" || e.Service != "MA/GOV/ETATCIVIL/civil-status" || e.Record != 0 || !e.ConfidentialUntil.IsZero() {
		t.Errorf("entry %+v", e)
	}
	w, rep = ask(ops, SubjectRequest{Subject: "MA-CIN:XY987654", IncludeConfidential: true})
	if w.Code != 200 || len(rep.Entries) != 3 || rep.Entries[1].RequestID != "a2" || !rep.Entries[1].ConfidentialUntil.Equal(later) || rep.HeldBack != 1 {
		t.Fatalf("report with confidential records: %d %+v", w.Code, rep)
	}
	if w, _ := ask(ops, SubjectRequest{Subject: "MA-CIN:xy987654"}); w.Code != 400 || strings.Contains(w.Body.String(), "987654") {
		t.Errorf("malformed subject: %d %s", w.Code, w.Body.String())
	}
	if w, _ := ask(ro, SubjectRequest{Subject: "MA-CIN:XY987654"}); w.Code != 403 || !strings.Contains(w.Body.String(), "only ops") {
		t.Errorf("the read-only group: %d %s", w.Code, w.Body.String())
	}
	recs, err := st.Audit(10)
	if err != nil || len(recs) != 4 {
		t.Fatalf("audit: %+v, %v", recs, err)
	}
	_, h1 := k.hash("MA-CIN:XY987654")
	if a := recs[3].Args; recs[3].User != "alice" || a["scheme"] != "MA-CIN" || a["subject_hash"] != "1:"+h1.String() || a["include_confidential"] != "false" || a["records"] != "2" || a["held_back"] != "1" {
		t.Errorf("audit record of a report: %+v", recs[3])
	}
	if recs[0].User != "bob" || recs[0].Outcome != "read_only" {
		t.Errorf("audit record of the refused report: %+v", recs[0])
	}
	raw, _ := json.Marshal(recs)
	if bytes.Contains(raw, []byte("987654")) {
		t.Errorf("the audit log holds the identifier: %s", raw)
	}
}
