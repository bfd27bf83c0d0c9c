package exchange

import (
	"time"

	"github.com/babgate/bab/wire"
)

// renewEvery is the shortest time between two renewals of one tunnel (a
// renewal signs with the CA and writes the registry): 10 s, or a tenth of
// the certificate lifetime if that is shorter.
func (x *Exchange) renewEvery() time.Duration { return min(10*time.Second, x.cfg.CertLifetime/10) }

// renewOnce renews the tunnel's certificate in the background, unless a
// renewal runs already or one started less than renewEvery ago: then the
// request is dropped and counted, and nothing is signed or written. The
// appliance's wait for the answer times out and it asks again later.
func (x *Exchange) renewOnce(s *session, csr []byte) {
	if time.Since(time.Unix(0, s.lastRenew.Load())) < x.renewEvery() || !s.renewing.CompareAndSwap(false, true) {
		x.metrics.limited.WithLabelValues("renewals").Inc()
		s.log.Debug("dropping a renewal request: one ran or runs on this tunnel", "every", x.renewEvery())
		return
	}
	s.lastRenew.Store(time.Now().UnixNano())
	go func() {
		defer s.renewing.Store(false)
		if err := s.send(wire.FrameRenewed, x.renew(s, csr)); err != nil {
			s.log.Warn("send renewed certificate", "err", err)
		}
	}()
}

// resendOnce sends the whole bundle to an appliance that could not use a
// delta. Requests that come while one is being sent are folded into one
// more send after it, so that an appliance acking resend in a loop gets
// at most one bundle in flight.
func (x *Exchange) resendOnce(s *session) {
	if !s.resending.CompareAndSwap(false, true) {
		x.metrics.limited.WithLabelValues("resends").Inc()
		s.resendMore.Store(true)
		return
	}
	go func() {
		for {
			x.resend(s)
			if s.resendMore.Swap(false) {
				continue
			}
			s.resending.Store(false)
			// A request that came between the two lines above.
			if !s.resendMore.Load() || !s.resending.CompareAndSwap(false, true) {
				return
			}
			s.resendMore.Store(false)
		}
	}()
}
