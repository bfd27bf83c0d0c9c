package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"
)

// DialQUIC connects over QUIC.
func DialQUIC(ctx context.Context, addr string, tlsConf *tls.Config, qc *quic.Config) (Conn, error) {
	q, err := quic.DialAddr(ctx, addr, tlsConf, qc)
	if err != nil {
		return nil, err
	}
	return FromQUIC(q), nil
}

// NoAnswer reports whether a dial's error means that nothing answered
// in time: on QUIC, what a network that drops UDP looks like.
func NoAnswer(err error) bool {
	var he *quic.HandshakeTimeoutError
	var ie *quic.IdleTimeoutError
	return errors.As(err, &he) || errors.As(err, &ie) || errors.Is(err, context.DeadlineExceeded)
}

// Mode says which transports a dial uses.
type Mode string

// The modes.
const (
	// ModeAuto tries QUIC first and TCP when QUIC gets no answer.
	ModeAuto Mode = "auto"
	ModeQUIC Mode = "quic"
	ModeTCP  Mode = "tcp"
)

// ParseMode reads a mode as a config file writes it; "" is ModeAuto.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeQUIC, ModeTCP:
		return Mode(s), nil
	}
	return "", fmt.Errorf("transport %q is not auto, quic or tcp", s)
}
