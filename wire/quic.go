package wire

import (
	"time"

	"github.com/quic-go/quic-go"
)

// QUICConfig is the QUIC configuration both ends of a tunnel use: tuned for
// long-lived connections that carry many concurrent request streams and
// large bodies. Idle connections are kept alive and a dead peer is noticed
// within MaxIdleTimeout even when the control stream is quiet.
func QUICConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:           5 * time.Second,
		MaxIdleTimeout:                 15 * time.Second,
		KeepAlivePeriod:                5 * time.Second,
		MaxIncomingStreams:             10000,
		MaxIncomingUniStreams:          -1,
		InitialStreamReceiveWindow:     1 << 20,
		MaxStreamReceiveWindow:         16 << 20,
		InitialConnectionReceiveWindow: 4 << 20,
		MaxConnectionReceiveWindow:     64 << 20,
	}
}
