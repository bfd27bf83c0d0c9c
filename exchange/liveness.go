package exchange

import (
	"context"
	"time"

	"github.com/babgate/bab/transport"
)

// Whether a session's path still carries. An appliance that keeps its
// tunnel alive (package tunnel's liveness watch) makes something arrive
// at least every second or so: a ping when it heard nothing, its
// acknowledgements, its requests. The exchange samples what each
// session's connection received, and takes one on which nothing arrived
// for staleAfter to be on a dead path: routing skips it while the
// appliance has a fresh one (it reconnected on another lane, or a new
// path), and a new tunnel of an appliance at its limit takes its place.
// QUIC's idle timeout closes it later.
const (
	sampleEvery = 500 * time.Millisecond
	staleAfter  = 3 * time.Second
)

// watchSessions samples the sessions until ctx ends.
func (x *Exchange) watchSessions(ctx context.Context) {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, s := range x.allSessions() {
				s.sample(now)
			}
		}
	}
}

// sample notes whether anything arrived on the session's connection since
// the last sample.
func (s *session) sample(now time.Time) {
	n, ok := transport.Received(s.conn)
	if ok && n != s.received.Load() {
		s.received.Store(n)
		s.arrived.Store(now.UnixNano())
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
