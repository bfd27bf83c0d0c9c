package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

func officeView() *console.Office {
	return &console.Office{
		Appliance: "MA/GOV/COMMUNE-X/bab-1",
		Tunnels: []console.Tunnel{
			{Addr: "exchange-1.example:443", Connected: true, Since: now.Add(-2 * time.Hour)},
			{Addr: "exchange-2.example:443", Since: now.Add(-3 * time.Minute), LastError: "timeout: no recent network activity", LastErrorAt: now.Add(-3 * time.Minute)},
		},
		Attested: true, AttestedAt: now.Add(-2 * time.Hour),
		CertExpiry: now.Add(5 * 24 * time.Hour),
		Findings: []console.Finding{
			{Check: "clock", Result: "in step with the exchange", Verdict: "ok"},
			{Check: "udp", Result: "UDP 443 to exchange-2 is blocked", Fix: "allow UDP 443 out to the exchange", Verdict: "warn"},
		},
		Consoles: []console.Paired{
			{Name: "desk-3", Role: console.RoleClerk, PairedAt: now.Add(-48 * time.Hour), Serial: "5f3a9c"},
			{Name: "old-desk", Role: console.RoleClerk, PairedAt: now.Add(-900 * time.Hour), Serial: "11aa22", Revoked: true},
		},
	}
}

func officeConsole(t *testing.T, s *stub) *Console {
	t.Helper()
	s.who, s.status = officeIT(), connected()
	c, _ := newTestConsole(t, s)
	c.tabs.SelectIndex(3)
	return c
}

func TestOffice(t *testing.T) {
	s := &stub{office: officeView()}
	c := officeConsole(t, s)
	test.AssertRendersToMarkup(t, "office/view.xml", c.env.win.Canvas())
	wantText(t, c.office.root,
		"exchange-1.example:443: connected since 08:45",
		"exchange-2.example:443: not connected since 10:42", "Last error at 10:42.", "For your IT: timeout: no recent network activity",
		"Verified by the exchange at 08:45",
		"Expires on 19 Mar 2026 10:45",
		"udp: UDP 443 to exchange-2 is blocked", "Fix: allow UDP 443 out to the exchange",
		"desk-3", "5f3a9c", "old-desk", "Revoked")
}

func TestOfficeQuarantine(t *testing.T) {
	v := officeView()
	v.Attested, v.Quarantine, v.CertExpiry = false, "PCR 7 differs from the baseline", now.Add(-time.Hour)
	c := officeConsole(t, &stub{office: v})
	wantText(t, c.office.root, "In quarantine", "For your IT: PCR 7 differs from the baseline", "Expired on 14 Mar 2026 09:45")
}

func TestOfficeRevoke(t *testing.T) {
	s := &stub{office: officeView()}
	c := officeConsole(t, s)
	revoke := findButton(t, c.office.root, "Revoke")
	test.Tap(revoke)
	overlay := c.env.win.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no confirmation before revoking")
	}
	wantText(t, overlay, "Revoke the console “desk-3”?")
	test.Tap(findButton(t, overlay, "Yes"))
	if len(s.revoked) != 1 || s.revoked[0] != "desk-3" {
		t.Errorf("revoked %v, want desk-3", s.revoked)
	}

	p := problem.New(problem.NotAllowed, "only office-it may revoke")
	s.revokeErr = &console.ProblemError{Status: 403, Problem: *p}
	test.Tap(findButton(t, c.office.root, "Revoke"))
	test.Tap(findButton(t, c.env.win.Canvas().Overlays().Top(), "Yes"))
	wantText(t, c.env.win.Canvas().Overlays().Top(), "Revocation failed", "The rules do not allow")
}

func TestOfficeRefused(t *testing.T) {
	p := problem.New(problem.NotAllowed, "office-it only")
	c := officeConsole(t, &stub{officeErr: &console.ProblemError{Status: 403, Problem: *p}})
	wantText(t, c.office.root, "The rules do not allow")
}

// TestOfficeTCP: a tunnel that fell back to TCP says so, with why for IT
// and what to ask the network team, in words the clerk's language has.
func TestOfficeTCP(t *testing.T) {
	v := officeView()
	v.Tunnels[0].Transport, v.Tunnels[0].TransportReason = "tcp", "QUIC got no answer within 3s; UDP may be blocked"
	c := officeConsole(t, &stub{office: v})
	wantText(t, c.office.root,
		"exchange-1.example:443: connected over TCP since 08:45",
		"For your IT: QUIC got no answer within 3s; UDP may be blocked")
}
