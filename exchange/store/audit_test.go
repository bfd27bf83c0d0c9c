package store

import (
	"testing"
	"time"
)

// TestAudit adds records as calls arrive, completes them as they end, and
// lists them newest first; a record whose call never ended stays
// "unfinished".
func TestAudit(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var recs []*AuditRecord
	for i, path := range []string{"/v1/tokens", "/v1/revoke/MA/MUN/RABAT:hq", "/v1/policy"} {
		r := &AuditRecord{At: t0.Add(time.Duration(i) * time.Second), UID: 1001, User: "alice", Role: "ops", Method: "POST", Path: path, Outcome: "unfinished"}
		if err := s.AddAudit(r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if recs[0].Seq == 0 || recs[1].Seq <= recs[0].Seq {
		t.Errorf("sequence numbers %d, %d: want increasing from 1", recs[0].Seq, recs[1].Seq)
	}
	recs[1].Status, recs[1].Outcome, recs[1].Args = 200, "ok", map[string]string{"appliance": "MA/MUN/RABAT:hq"}
	if err := s.UpdateAudit(recs[1]); err != nil {
		t.Fatal(err)
	}
	recs[0].Status, recs[0].Outcome, recs[0].Error = 403, "forbidden", "read-only"
	if err := s.UpdateAudit(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAudit(&AuditRecord{At: t0, Seq: 99}); err == nil {
		t.Error("UpdateAudit of a record never added did not fail")
	}
	got, err := s.Audit(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Path != "/v1/policy" || got[0].Outcome != "unfinished" ||
		got[1].Outcome != "ok" || got[1].Args["appliance"] != "MA/MUN/RABAT:hq" || got[2].Outcome != "forbidden" || got[2].UID != 1001 {
		t.Errorf("Audit = %+v", got)
	}
	if got, _ := s.Audit(1); len(got) != 1 || got[0].Path != "/v1/policy" {
		t.Errorf("Audit(1) = %+v, want the newest", got)
	}
}
