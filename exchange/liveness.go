package exchange

import (
	"context"
	"time"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Whether a session's path still carries. An appliance that keeps its
// tunnel alive (package tunnel's liveness watch) makes something arrive
// at least every second or so: a ping when it heard nothing, its
// acknowledgements, its requests. The exchange samples what each
// session's connection received, and takes one on which nothing arrived
// for staleAfter to be on a dead path: routing skips it while the
// appliance has a fresh one (it reconnected on another lane, or a new
// path), and a new tunnel of an appliance at its limit takes its place.
// After deadAfter the exchange closes it, which ends the requests on it
// at once (QUIC's idle timeout would wait 15 s); only for an appliance
// that says it keeps its tunnels alive, since an older one's idle tunnel
// may be silent that long.
const (
	sampleEvery = 500 * time.Millisecond
	staleAfter  = 3 * time.Second
	deadAfter   = 6 * time.Second
)

// watchSessions samples the sessions until ctx ends.
func (x *Exchange) watchSessions(ctx context.Context) {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	prev := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		// A sample that came late came from a starved process, whose
		// packet loops were starved too: the time it could not look is
		// not counted as silence.
		x.checkSessions(now, now.Sub(prev)-sampleEvery)
		prev = now
	}
}

// checkSessions samples every session, late by late, and closes those of
// appliances that keep their tunnels alive on which nothing arrived for
// deadAfter.
func (x *Exchange) checkSessions(now time.Time, late time.Duration) {
	for _, s := range x.allSessions() {
		s.sample(now, late)
		if s.hello.KeepsAlive && s.conn.Context().Err() == nil && now.Sub(time.Unix(0, max(s.arrived.Load(), s.lastSeen.Load()))) > deadAfter {
			s.log.Info("closing a tunnel on which nothing arrived for long: its path is dead", "silent_for", deadAfter)
			go s.conn.CloseWithError(wire.CloseHeartbeat, "nothing arrived from the appliance for "+deadAfter.String())
		}
	}
}

// sample notes whether anything arrived on the session's connection since
// the last sample, taken late by late.
func (s *session) sample(now time.Time, late time.Duration) {
	n, ok := transport.Received(s.conn)
	switch {
	case ok && n != s.received.Load():
		s.received.Store(n)
		s.arrived.Store(now.UnixNano())
	case late > sampleEvery/2:
		s.arrived.Store(max(s.arrived.Load(), s.since.UnixNano()) + int64(late))
	}
}

// fresh reports whether something arrived on the session within
// staleAfter: a packet, or a control frame.
func (s *session) fresh(now time.Time) bool {
	last := max(s.arrived.Load(), s.lastSeen.Load())
	return now.Sub(time.Unix(0, last)) < staleAfter
}

// usable reports whether requests may go to or come from the session:
// its connection is open, it was checked against the registry, the
// exchange has a boot-state verdict on it, and it is not quarantined.
func (s *session) usable() bool {
	return s.conn.Context().Err() == nil && s.admitted.Load() && s.attested.Load() && !s.quarantined.Load()
}
