package exchange

import (
	"log/slog"
	"time"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// probeLinger bounds how long the exchange keeps a probed connection open
// for the appliance to read the welcome and close it.
const probeLinger = 5 * time.Second

// answerProbe answers an appliance that sent a probe instead of a hello
// (bab doctor): a welcome with the exchange's clock, and nothing else. No
// session is registered, so the appliance's running tunnel keeps carrying
// its requests, and no policy push or attestation check starts. By the
// time the probe is read the handshake has verified the certificate and
// the registry has been consulted, as for a tunnel.
func (x *Exchange) answerProbe(conn transport.Conn, ctrl transport.Stream, log *slog.Logger) {
	_ = ctrl.SetWriteDeadline(time.Now().Add(probeLinger))
	welcome := wire.Welcome{Exchange: x.cfg.Names[0], ServerTime: time.Now().UTC()}
	if err := wire.WriteJSON(ctrl, wire.FrameWelcome, welcome); err != nil {
		log.Debug("answering a probe", "err", err)
	}
	_ = ctrl.Close()
	log.Info("answered a probe (bab doctor)")
	// Closing at once could drop the welcome before it is delivered: the
	// appliance closes once it has read it.
	select {
	case <-conn.Context().Done():
	case <-time.After(probeLinger):
	}
	conn.CloseWithError(wire.CloseNormal, "probe answered")
}
