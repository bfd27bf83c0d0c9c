package tunnel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// A path that dies says nothing: a firewall or a broken link drops the
// packets, with no reset and no ICMP. QUIC's idle timeout (15 s) and three
// unanswered heartbeats (30 s at the shipped 10 s) notice it late, and in
// the meantime requests hang and status says the tunnel is up. So a tunnel
// watches what arrives from the exchange: anything at all proves the path
// alive, a packet of any kind as the transport counts them (an
// acknowledgement of data sent is enough) or a control frame. When nothing
// arrived for QuietAfter it sends a ping, which asks for an answer; when
// nothing arrived for DeadAfter while that answer was awaited, it closes
// the connection as dead, and requests on it fail at once.
//
// A slow office link saturated by a big upload may queue the ping behind
// seconds of data, but the exchange's acknowledgements of the data ahead
// of it keep arriving, so the path stays alive as long as it carries
// anything; one saturated by a download delivers the download. Only a
// path on which nothing at all arrived for DeadAfter is dead (or for four
// round trips, on a path where that is longer). An idle tunnel costs one
// ping and its answer per QuietAfter. An appliance whose own process is
// starved of CPU (its watch runs late) does not count the time it could
// not look, since its packet loops could not read either.

// Defaults of the liveness watch: a dead path shows within DeadAfter of
// its last packet.
const (
	DefaultQuietAfter = time.Second
	DefaultDeadAfter  = 2 * time.Second
	// watchEvery is how often the watch looks at what arrived.
	watchEvery = 100 * time.Millisecond
	// deadRTTs: on a path whose round trip is long, DeadAfter is at
	// least this many of them.
	deadRTTs = 4
)

// watch keeps the connection's liveness: pings when it is quiet and every
// heartbeat, and closes it when the path is dead or the exchange stopped
// answering pings for three heartbeats (its process hangs while its
// QUIC stack still acknowledges). lastPong is when the last pong came.
func (t *Tunnel) watch(ctx context.Context, conn transport.Conn, heartbeat time.Duration, lastPong *atomic.Int64) error {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	now := time.Now()
	seen, _ := transport.Received(conn)
	arrived, asked, pinged, prev := now, time.Time{}, now, now
	var seq uint64
	var sending atomic.Bool
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now = time.Now()
		// A watch that ran late ran in a starved process, whose packet
		// loops were starved as well: the time it could not look is not
		// counted as quiet.
		if late := now.Sub(prev) - watchEvery; late > watchEvery/2 {
			arrived, asked = arrived.Add(late), asked.Add(late)
		}
		prev = now
		if n, ok := transport.Received(conn); ok && n != seen {
			seen, arrived = n, now
		}
		pong := time.Unix(0, lastPong.Load())
		if pong.After(arrived) {
			arrived = pong
		}
		// A path with a long round trip gets as many of them.
		dead := max(t.cfg.DeadAfter, deadRTTs*conn.RTT())
		if quiet := now.Sub(arrived); asked.After(arrived) && quiet >= dead {
			conn.CloseWithError(wire.CloseHeartbeat, "path dead: nothing arrived for "+quiet.Round(time.Millisecond).String())
			return fmt.Errorf("%w: nothing arrived from the exchange for %s", ErrPathDead, quiet.Round(time.Millisecond))
		}
		if now.Sub(pong) > 3*heartbeat {
			conn.CloseWithError(wire.CloseHeartbeat, "no heartbeat answer")
			return fmt.Errorf("exchange stopped answering heartbeats for %s", 3*heartbeat)
		}
		quiet := now.Sub(arrived) >= t.cfg.QuietAfter && !asked.After(arrived)
		if !quiet && now.Sub(pinged) < heartbeat {
			continue
		}
		// A ping still waiting to go out asks as well as a new one.
		asked, pinged = now, now
		if sending.CompareAndSwap(false, true) {
			seq++
			// A write may wait for room on a dead path: the watch does not.
			go func(seq uint64) {
				defer sending.Store(false)
				if err := t.writeControl(wire.FramePing, wire.Ping{Seq: seq}); err != nil {
					t.cfg.Log.Debug("send ping", "addr", t.cfg.Addr, "err", err)
				}
			}(seq)
		}
	}
}

// noAnswer reports whether err says the exchange gave no answer at all,
// the path is dead, rather than that it answered and refused or closed:
// then the tunnel probes again soon instead of backing off.
func noAnswer(err error) bool {
	var (
		ie *quic.IdleTimeoutError
		he *quic.HandshakeTimeoutError
	)
	return errors.Is(err, ErrPathDead) || errors.Is(err, ErrNoAnswer) || errors.As(err, &ie) || errors.As(err, &he)
}
