package ui

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

func recentActivity() []console.Activity {
	return []console.Activity{
		{At: now.Add(-time.Minute), Direction: "out", Who: "console/desk-3/amina", Service: "MA/GOV/ETATCIVIL/civil-status", Outcome: "ok", Duration: 312 * time.Millisecond, RequestID: "01J9Z6R2M4"},
		{At: now.Add(-5 * time.Minute), Direction: "in", Who: "MA/GOV/CNSS/bab-1", Service: "MA/GOV/COMMUNE-X/residence", Outcome: "ok", Duration: 1500 * time.Millisecond, RequestID: "01J9Z6R2M3"},
		{At: now.Add(-26 * time.Hour), Direction: "out", Who: "civil-registry", Service: "MA/GOV/MASSAR/school-records", Outcome: "provider_offline", Duration: 2 * time.Millisecond, RequestID: "01J9Z6R2M2"},
	}
}

func activityConsole(t *testing.T, s *stub) *Console {
	t.Helper()
	s.who, s.status = clerk(), connected()
	c, _ := newTestConsole(t, s)
	c.tabs.SelectIndex(2)
	return c
}

func TestActivity(t *testing.T) {
	s := &stub{activity: recentActivity()}
	c := activityConsole(t, s)
	test.AssertRendersToMarkup(t, "activity/list.xml", c.env.win.Canvas())
	wantText(t, c.activity.root,
		"Exchanges shown: 3", "10:44:00", "Outgoing", "amina (desk-3)", "Succeeded", "312 ms", "01J9Z6R2M4",
		"Incoming", "MA/GOV/CNSS/bab-1", "1.5 s",
		"13 Mar 08:45", "Administration not connected")
	if len(s.filters) != 1 || s.filters[0] != (console.ActivityFilter{}) {
		t.Errorf("filters %+v, want one without filter", s.filters)
	}

	c.activity.table.Select(widget.TableCellID{Row: 1, Col: 0})
	if got := c.env.app.Clipboard().Content(); got != "01J9Z6R2M3" {
		t.Errorf("choosing a row copied %q, want its request id", got)
	}
	wantText(t, c.activity.root, "Request id 01J9Z6R2M3 copied.")
}

func TestActivityFilters(t *testing.T) {
	s := &stub{activity: recentActivity()}
	c := activityConsole(t, s)
	a := c.activity

	a.direction.SetSelectedIndex(filterOut)
	if got := s.filters[len(s.filters)-1]; got.Direction != "out" || got.Outcome != "" {
		t.Errorf("asked by this office: filter %+v", got)
	}
	a.direction.SetSelectedIndex(filterAll)
	a.outcome.SetSelectedIndex(filterOut)
	if got := s.filters[len(s.filters)-1]; got.Outcome != "ok" || got.Direction != "" {
		t.Errorf("succeeded: filter %+v", got)
	}
	a.outcome.SetSelectedIndex(filterIn) // failed: filtered here
	if got := s.filters[len(s.filters)-1]; got.Outcome != "" {
		t.Errorf("failed: filter %+v, want the appliance unfiltered", got)
	}
	if len(a.rows) != 1 || a.rows[0].RequestID != "01J9Z6R2M2" {
		t.Errorf("failed only: %d rows", len(a.rows))
	}
	a.outcome.SetSelectedIndex(filterAll)
	if len(a.services) != 3 {
		t.Errorf("service choices %v, want the 3 services seen", a.services)
	}
	a.service.SetText("MA/GOV/MASSAR/school-records")
	if got := s.filters[len(s.filters)-1]; got.Service != "MA/GOV/MASSAR/school-records" {
		t.Errorf("service filter %+v", got)
	}
}

func TestActivityErrors(t *testing.T) {
	s := &stub{activityErr: errors.New("connection refused")}
	c := activityConsole(t, s)
	wantText(t, c.activity.root, "cannot reach your office's Bab server")

	s.activityErr, s.activity = nil, []console.Activity{}
	c.Refresh() // the visible tab refreshes with the state
	wantText(t, c.activity.root, "No exchange matches.")
}

func TestActivityFrench(t *testing.T) {
	useLanguage(t, "fr")
	c := activityConsole(t, &stub{activity: recentActivity()})
	wantText(t, c.activity.root, "Échanges affichés : 3", "Sortant", "Réussi", "1,5 s", "13/03 08:45", "N° de demande", "Administration non connectée")
}
