package exchange

import (
	"errors"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// errHandshakeBusy refuses a new connection beyond limits.handshakes_per_second.
var errHandshakeBusy = errors.New("too many handshakes this second")

// handshakeGate bounds the new connections the exchange takes on per
// second, a token bucket of HandshakesPerSecond tokens refilled at that
// rate. When a fleet reconnects at once (an exchange restart, a network
// that comes back) the connections beyond it are refused at their first
// packet with QUIC's CONNECTION_REFUSED, which costs no cryptography;
// their appliances back off with jitter (package tunnel), which spreads
// the fleet over the seconds that follow instead of letting handshakes
// pile up until they time out.
type handshakeGate struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newHandshakeGate(perSecond int) *handshakeGate {
	return &handshakeGate{rate: float64(perSecond), tokens: float64(perSecond)}
}

// allow takes a token if there is one.
func (g *handshakeGate) allow(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.last.IsZero() {
		g.tokens = min(g.rate, g.tokens+now.Sub(g.last).Seconds()*g.rate)
	}
	g.last = now
	if g.tokens < 1 {
		return false
	}
	g.tokens--
	return true
}

// gateHandshakes makes qc refuse new connections beyond the gate.
func (x *Exchange) gateHandshakes(qc *quic.Config) {
	g := newHandshakeGate(x.cfg.Limits.HandshakesPerSecond)
	qc.GetConfigForClient = func(*quic.ClientInfo) (*quic.Config, error) {
		if !g.allow(time.Now()) {
			x.metrics.limited.WithLabelValues("handshakes_per_second").Inc()
			return nil, errHandshakeBusy
		}
		return qc, nil
	}
}
