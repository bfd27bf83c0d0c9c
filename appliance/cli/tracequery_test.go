package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/tracelog"
)

// TestPrintMemberRecords: each record says what the member was in it.
func TestPrintMemberRecords(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	recs := []tracelog.TraceRecord{
		{Index: 4, Record: tracelog.Record{At: at, ID: "a1", Consumer: "MA/MUN/RABAT:hq", ConsumerSystem: "desk", Provider: "MA/GOV/ETATCIVIL:dc1", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Outcome: "ok", Status: 200}},
		{Index: 5, Record: tracelog.Record{At: at, ID: "a2", Consumer: "MA/GOV/ETATCIVIL:dc1", Service: "MA/GOV/ETATCIVIL/civil-status", Method: "GET", Outcome: "not_allowed"}},
	}
	var sb strings.Builder
	printMemberRecords(&sb, "MA/GOV/ETATCIVIL", recs)
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], " provider ") || !strings.Contains(lines[2], " consumer ") || !strings.Contains(lines[1], "MA/MUN/RABAT:hq/desk") {
		t.Errorf("listing:\n%s", sb.String())
	}
	sb.Reset()
	printMemberRecords(&sb, "MA/MUN/RABAT", nil)
	if !strings.Contains(sb.String(), "holds no request of MA/MUN/RABAT") {
		t.Errorf("empty listing: %s", sb.String())
	}
}
