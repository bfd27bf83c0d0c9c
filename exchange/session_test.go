package exchange

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// quicConns dials n real QUIC connections on loopback and returns the
// server's ends, as the exchange holds them.
func quicConns(t *testing.T, n int) []transport.Conn {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"x"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"t"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []transport.Conn
	for range n {
		c, err := quic.DialAddr(ctx, ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"t"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseWithError(0, "") })
		s, err := ln.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, transport.FromQUIC(s))
	}
	return out
}

// testSessions registers a session of one appliance on each of n
// connections, usable, with lanes "a#1"… when lanes is set.
func testSessions(t *testing.T, x *Exchange, id ident.Appliance, n int, keepsAlive bool) []*session {
	t.Helper()
	var out []*session
	for i, c := range quicConns(t, n) {
		s := &session{id: id, conn: c, since: time.Now().Add(time.Duration(i) * time.Millisecond), log: x.log,
			hello: wire.Hello{KeepsAlive: keepsAlive}}
		s.lastSeen.Store(time.Now().UnixNano())
		s.admitted.Store(true)
		s.attested.Store(true)
		if !x.addSession(s) {
			t.Fatal("addSession refused a session under the limit")
		}
		out = append(out, s)
	}
	return out
}

// TestSessionSpreadsOverLiveTunnels: requests to an appliance go to each
// of its usable tunnels in turn, never to one that is closed,
// quarantined, not yet attested, or silent for longer than a live
// tunnel allows; for an appliance too old to keep its tunnels alive,
// the newest when none had news.
func TestSessionSpreadsOverLiveTunnels(t *testing.T) {
	x := &Exchange{cfg: &config.Config{Limits: config.DefaultLimits()}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		sessions: map[ident.Appliance][]*session{}}
	id := ident.MustAppliance("MA/GOV/ETATCIVIL:dc1")
	ss := testSessions(t, x, id, 6, true)
	ss[1].conn.CloseWithError(0, "gone")
	ss[2].quarantined.Store(true)
	ss[3].attested.Store(false)
	ss[4].lastSeen.Store(time.Now().Add(-staleAfter).UnixNano()) // nothing arrived since
	got := map[*session]int{}
	for range 40 {
		got[x.session(id)]++
	}
	if len(got) != 2 || got[ss[0]] != 20 || got[ss[5]] != 20 {
		t.Errorf("40 picks over 2 live tunnels of 6: %d distinct, %d and %d on the live ones", len(got), got[ss[0]], got[ss[5]])
	}
	// Both live ones silent: an appliance that keeps its tunnels alive
	// has none to take requests.
	for _, s := range []*session{ss[0], ss[5]} {
		s.lastSeen.Store(time.Now().Add(-staleAfter).UnixNano())
	}
	if s := x.session(id); s != nil {
		t.Errorf("all tunnels silent: picked one since %s", s.since)
	}
	// An older appliance's silent tunnel may only be idle: the newest.
	old := ident.MustAppliance("MA/GOV/ETATCIVIL:old")
	os := testSessions(t, x, old, 3, false)
	for _, s := range os {
		s.lastSeen.Store(time.Now().Add(-staleAfter).UnixNano())
	}
	if s := x.session(old); s != os[2] {
		t.Error("an older appliance with silent tunnels: the newest was not picked")
	}
}

// TestAddSessionReplaces: a new tunnel on a lane retires the appliance's
// older one on that lane (closed once the requests on it are done and the
// new one is usable), and one at the limit takes the place of a silent
// one, but not of a live one.
func TestAddSessionReplaces(t *testing.T) {
	x := &Exchange{cfg: &config.Config{Limits: config.Limits{TunnelsPerAppliance: 2}}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		sessions: map[ident.Appliance][]*session{}}
	id := ident.MustAppliance("MA/MUN/RABAT:hq")
	cs := quicConns(t, 4)
	mk := func(c transport.Conn, lane string) *session {
		s := &session{id: id, conn: c, since: time.Now(), log: x.log, hello: wire.Hello{KeepsAlive: true, Lane: lane}}
		s.lastSeen.Store(time.Now().UnixNano())
		s.admitted.Store(true)
		s.attested.Store(true)
		return s
	}
	a, b := mk(cs[0], "ex:7700#1"), mk(cs[1], "ex:7700#2")
	if !x.addSession(a) || !x.addSession(b) {
		t.Fatal("two tunnels refused under a limit of 2")
	}
	if x.addSession(mk(cs[2], "ex:7700#3")) {
		t.Fatal("a third tunnel taken beyond the limit while both others are live")
	}
	a.active.Store(1) // a request on the old tunnel
	a2 := mk(cs[2], "ex:7700#1")
	if !x.addSession(a2) {
		t.Fatal("a lane's new tunnel refused")
	}
	for range 20 {
		if s := x.session(id); s == a {
			t.Fatal("a new request went to the replaced tunnel")
		}
	}
	select {
	case <-a.conn.Context().Done():
		t.Fatal("the lane's old tunnel closed while a request was on it")
	case <-time.After(300 * time.Millisecond):
	}
	a.active.Store(0)
	select {
	case <-a.conn.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the lane's old tunnel stayed open once its requests were done")
	}
	x.removeSession(a) // as its serveTunnel does when it ends
	b.lastSeen.Store(time.Now().Add(-staleAfter).UnixNano())
	c := mk(cs[3], "ex:7700#3")
	if !x.addSession(c) {
		t.Fatal("a tunnel at the limit did not take a silent one's place")
	}
	select {
	case <-b.conn.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the silent tunnel stayed open")
	}
	if list := x.sessions[id]; len(list) != 2 || list[0] != a2 || list[1] != c {
		t.Errorf("sessions after replacements: %d", len(list))
	}
}

// TestSilentTunnelClosed: a tunnel of an appliance that keeps its tunnels
// alive, on which nothing arrived for deadAfter, is closed, which ends the
// requests on it; an older appliance's silent tunnel, or one sampled late
// by a starved exchange, is not.
func TestSilentTunnelClosed(t *testing.T) {
	x := &Exchange{cfg: &config.Config{Limits: config.DefaultLimits()}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		sessions: map[ident.Appliance][]*session{}}
	now := time.Now()
	alive := testSessions(t, x, ident.MustAppliance("MA/GOV/ETATCIVIL:dc1"), 1, true)[0]
	old := testSessions(t, x, ident.MustAppliance("MA/GOV/ETATCIVIL:old"), 1, false)[0]
	x.checkSessions(now.Add(deadAfter/2), 0) // a sample: what arrived so far
	for _, s := range []*session{alive, old} {
		s.lastSeen.Store(0)
		s.arrived.Store(now.Add(-deadAfter / 2).UnixNano())
	}
	// A starved exchange's late sample does not count its own delay.
	x.checkSessions(now.Add(deadAfter/2+time.Second), deadAfter)
	if alive.conn.Context().Err() != nil {
		t.Fatal("a tunnel sampled late by a starved exchange was closed")
	}
	alive.arrived.Store(now.Add(-deadAfter).UnixNano())
	x.checkSessions(now.Add(time.Second), 0)
	select {
	case <-alive.conn.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a silent tunnel of an appliance that keeps them alive stayed open")
	}
	if old.conn.Context().Err() != nil {
		t.Error("an older appliance's silent tunnel was closed")
	}
}
