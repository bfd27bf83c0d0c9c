package ui

import (
	"crypto/tls"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/babgate/bab/console"
)

func clerk() *console.WhoAmI {
	return &console.WhoAmI{User: "amina", Console: "desk-3", Role: console.RoleClerk, Member: "MA/GOV/COMMUNE-X", MemberName: "Commune X", System: "console/desk-3/amina"}
}

func officeIT() *console.WhoAmI {
	return &console.WhoAmI{User: "karim", Console: "local", Role: console.RoleOfficeIT, Member: "MA/GOV/COMMUNE-X", MemberName: "Commune X"}
}

func connected() *console.Status {
	return &console.Status{
		Connected: true, Since: now.Add(-90 * time.Minute), Attested: true,
		PolicyVersion: 1042, PolicyExpires: now.Add(30 * 24 * time.Hour), CheckedAt: now,
	}
}

// with returns a connected status changed by f.
func with(f func(*console.Status)) *console.Status {
	s := connected()
	f(s)
	return s
}

// TestHomeStates draws the home screen, the banner and the title in each
// state of the office's connection.
func TestHomeStates(t *testing.T) {
	unreachable := fmt.Errorf("status: %w", &net_OpError{syscall.ECONNREFUSED})
	tests := []struct {
		name   string
		st     *console.Status
		err    error
		level  level
		title  string
		banner string
	}{
		{"connected", connected(), nil, levelOK, "Bab — connected",
			"Connected: lookups in other administrations work."},
		{"exchange_unreachable", with(func(s *console.Status) {
			s.Connected, s.Attested = false, false
			s.Since = time.Date(2026, 3, 14, 10, 42, 0, 0, time.UTC)
			s.LastError = "dial exchange.example:443: i/o timeout"
		}), nil, levelFail, "Bab — not connected",
			"The exchange cannot be reached since 10:42: lookups in other administrations will fail. Call your IT."},
		{"quarantined", with(func(s *console.Status) {
			s.Attested = false
			s.Quarantine = "PCR 7 differs from the baseline"
		}), nil, levelFail, "Bab — quarantine",
			"in quarantine because its start-up state changed"},
		{"policy_expiring", with(func(s *console.Status) {
			s.PolicyExpires = now.Add(30 * time.Hour)
			s.PolicyNote = "the policy expires in 30h"
		}), nil, levelWarn, "Bab — rules expire soon",
			"expire on 15 Mar 2026 16:45"},
		{"policy_expired", with(func(s *console.Status) {
			s.PolicyExpires = now.Add(-2 * time.Hour)
			s.PolicyExpired = true
		}), nil, levelFail, "Bab — rules expired",
			"expired on 14 Mar 2026 08:45: lookups in other administrations will fail. Call your IT."},
		{"attesting", with(func(s *console.Status) { s.Attested = false }), nil, levelWarn, "Bab — start-up check",
			"checking your office server's start-up state"},
		{"revoked", with(func(s *console.Status) { s.Connected, s.Revoked = false, true }), nil, levelFail, "Bab — server revoked",
			"revoked your office's server"},
		{"pending", with(func(s *console.Status) { s.Pending = true }), nil, levelFail, "Bab — waiting for approval",
			"waiting for approval by central ops"},
		{"no_policy", with(func(s *console.Status) { s.PolicyVersion, s.PolicyExpires = 0, time.Time{} }), nil, levelFail, "Bab — no rules",
			"has not received its rules"},
		{"server_unreachable", nil, unreachable, levelFail, "Bab — server unreachable",
			"The console cannot reach your office's Bab server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestConsole(t, &stub{who: clerk(), status: tc.st, statusErr: tc.err})
			test.AssertRendersToMarkup(t, "home/"+tc.name+".xml", c.env.win.Canvas())
			if got := c.env.win.Title(); got != tc.title {
				t.Errorf("title %q, want %q", got, tc.title)
			}
			if c.banner.level != tc.level {
				t.Errorf("banner level %d, want %d", c.banner.level, tc.level)
			}
			wantText(t, c.banner, tc.banner)
		})
	}
}

// net_OpError stands for a refused connection without a network.
type net_OpError struct{ err error }

func (e *net_OpError) Error() string { return "dial unix /run/bab/console.sock: " + e.err.Error() }
func (e *net_OpError) Unwrap() error { return e.err }

func TestHomeFrench(t *testing.T) {
	useLanguage(t, "fr")
	st := with(func(s *console.Status) {
		s.Connected, s.Attested = false, false
		s.Since = time.Date(2026, 3, 14, 10, 42, 0, 0, time.UTC)
	})
	c, _ := newTestConsole(t, &stub{who: clerk(), status: st})
	test.AssertRendersToMarkup(t, "home/fr_exchange_unreachable.xml", c.env.win.Canvas())
	wantText(t, c.banner, "La plateforme d'échange est injoignable depuis 10:42 : les consultations auprès des autres administrations échoueront. Appelez votre service informatique.")
	wantText(t, c.home.root, "Version 1042, valable jusqu'au 13/04/2026 10:45", "amina (agent), Commune X, sur la console « desk-3 »")
	if got := c.env.win.Title(); got != "Bab — non connecté" {
		t.Errorf("title %q", got)
	}
}

// TestHomeRefreshes: the console follows the appliance's state on each
// refresh, and the technical detail is there for office IT.
func TestHomeRefreshes(t *testing.T) {
	s := &stub{who: clerk(), status: connected()}
	c, _ := newTestConsole(t, s)
	if c.banner.level != levelOK {
		t.Fatalf("banner level %d, want ok", c.banner.level)
	}
	s.status = with(func(st *console.Status) {
		st.Connected = false
		st.Since = now.Add(-3 * time.Minute)
		st.LastError = "no route to host"
	})
	c.Refresh()
	if c.banner.level != levelFail || c.env.win.Title() != "Bab — not connected" {
		t.Errorf("after the tunnel fell: level %d, title %q", c.banner.level, c.env.win.Title())
	}
	wantText(t, c.home.root, "Not connected since 10:42", "For your IT: no route to host")
	s.status = connected()
	c.Refresh()
	if c.banner.level != levelOK {
		t.Errorf("after the tunnel came back: level %d", c.banner.level)
	}
}

// TestRevokedConsole: an appliance that refuses this console's certificate
// is worded as such, not as a network failure.
func TestRevokedConsole(t *testing.T) {
	err := fmt.Errorf("status: %w", tls.AlertError(44))
	c, _ := newTestConsole(t, &stub{statusErr: err, whoErr: err})
	wantText(t, c.banner, "no longer accepts this console", "pair this console again")
}

// TestRoleTabs: only office IT sees the Office tab, and a change of role
// shows or hides it.
func TestRoleTabs(t *testing.T) {
	s := &stub{who: clerk(), status: connected()}
	c, _ := newTestConsole(t, s)
	if n := len(c.tabs.Items); n != 3 {
		t.Errorf("a clerk sees %d tabs, want 3", n)
	}
	s.who = officeIT()
	c.Refresh()
	if n := len(c.tabs.Items); n != 4 || c.tabs.Items[3].Text != "Office server" {
		t.Errorf("office IT sees %d tabs, want 4 with Office server", n)
	}
	wantText(t, c.home.root, "karim (office IT), Commune X, on the office's server")
	s.who = clerk()
	c.Refresh()
	if n := len(c.tabs.Items); n != 3 {
		t.Errorf("back to clerk: %d tabs, want 3", n)
	}
	s.whoErr = errors.New("socket closed")
	s.who = nil
	c.Refresh()
	if n := len(c.tabs.Items); n != 3 {
		t.Errorf("whoami failing: %d tabs, want the last known role's 3", n)
	}
}
