package exchange

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/babgate/bab/transport"
)

// listenTCP listens on TCP at the QUIC listener's address and port, for
// appliances whose network blocks UDP; nil when the config turns TCP off.
// Both transports lead to the same serveConn, with the same limits.
func (x *Exchange) listenTCP(quicAddr net.Addr, tlsConf *tls.Config) (*transport.TCPListener, error) {
	if !x.cfg.TCP {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(x.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("exchange: listen address %s: %w", x.cfg.Listen, err)
	}
	port := quicAddr.(*net.UDPAddr).Port // the configured one, or the one given for port 0
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := transport.ListenTCP(addr, tlsConf, transport.TCPConfig{
		MaxIncomingStreams: x.cfg.Limits.RequestsPerAppliance + 64, // as on QUIC, see Run
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: listen on %s (TCP): %w", addr, err)
	}
	return ln, nil
}

// acceptTCP serves connections over TCP until ctx ends.
func (x *Exchange) acceptTCP(ctx context.Context, ln *transport.TCPListener) {
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		go x.serveConn(ctx, conn)
	}
}
