package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/libp2p/go-yamux/v5"
	"github.com/quic-go/quic-go"
)

// TCPConfig tunes a connection over TLS on TCP. The zero value gives the
// same limits as wire.QUICConfig.
type TCPConfig struct {
	// MaxIncomingStreams bounds the streams the peer may have open at
	// once; more are refused with a reset. Zero means 10000.
	MaxIncomingStreams int
	// HandshakeTimeout bounds the TCP connect and the TLS handshake when
	// the caller's context does not. Zero means 5 s.
	HandshakeTimeout time.Duration
	// KeepAlive is how often an idle connection is checked; a peer that
	// does not answer within two of them is gone. Zero means 5 s.
	KeepAlive time.Duration
}

func (c TCPConfig) maxIncoming() int {
	if c.MaxIncomingStreams > 0 {
		return c.MaxIncomingStreams
	}
	return 10000
}

func (c TCPConfig) handshakeTimeout() time.Duration {
	if c.HandshakeTimeout > 0 {
		return c.HandshakeTimeout
	}
	return 5 * time.Second
}

func (c TCPConfig) keepAlive() time.Duration {
	if c.KeepAlive > 0 {
		return c.KeepAlive
	}
	return 5 * time.Second
}

// Flow control as on QUIC (wire.QUICConfig): a stream's window starts at
// 1 MiB and grows to 16 MiB for a fast reader; the growth of all streams
// of a connection together is bounded by connWindow.
const (
	streamWindow    = 1 << 20
	maxStreamWindow = 16 << 20
	connWindow      = 64 << 20
)

func muxConfig(cfg TCPConfig) *yamux.Config {
	mc := yamux.DefaultConfig()
	mc.AcceptBacklog = 1024
	mc.EnableKeepAlive = true
	mc.KeepAliveInterval = cfg.keepAlive()
	mc.ConnectionWriteTimeout = 2 * cfg.keepAlive()
	mc.MeasureRTTInterval = cfg.keepAlive()
	// One more than asked: the signal stream is the first incoming stream.
	mc.MaxIncomingStreams = uint32(cfg.maxIncoming()) + 1
	mc.InitialStreamWindowSize = streamWindow
	mc.MaxStreamWindowSize = maxStreamWindow
	mc.ReadBufSize = 32 << 10
	mc.LogOutput = io.Discard
	return mc
}

// tls13 is the caller's TLS configuration with TLS 1.3 as the floor, as
// QUIC has it.
func tls13(c *tls.Config, addr string) *tls.Config {
	c = c.Clone()
	c.MinVersion = tls.VersionTLS13
	if c.ServerName == "" && addr != "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	return c
}

// DialTCP connects to a TCP listener of ListenTCP at addr: TLS 1.3 with
// tlsConf (the same configuration a QUIC dial uses), then the stream
// multiplexer. Errors are wrapped; a handshake that does not finish in
// time gives a *quic.HandshakeTimeoutError, as QUIC does.
func DialTCP(ctx context.Context, addr string, tlsConf *tls.Config, cfg TCPConfig) (Conn, error) {
	hctx, cancel := context.WithTimeout(ctx, cfg.handshakeTimeout())
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(hctx, "tcp", addr)
	if err != nil {
		return nil, handshakeErr("tcp: dial", hctx, err)
	}
	tc := tls.Client(raw, tls13(tlsConf, addr))
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, handshakeErr("tcp: tls handshake", hctx, err)
	}
	c, err := newTCPConn(hctx, tc, true, cfg)
	if err != nil {
		return nil, handshakeErr("tcp: start", hctx, err)
	}
	return c, nil
}

// handshakeErr says that the handshake ran out of time in the words QUIC
// uses, so that callers tell a silent network the same way on both.
func handshakeErr(op string, ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, &quic.HandshakeTimeoutError{})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// TCPListener accepts connections of DialTCP.
type TCPListener struct {
	ln      net.Listener
	tlsConf *tls.Config
	cfg     TCPConfig
	conns   chan Conn
	done    chan struct{}
	once    sync.Once
	slots   chan struct{} // bounds the handshakes under way
}

// ListenTCP listens on addr for connections over TLS 1.3 with tlsConf
// (the configuration the QUIC listener uses).
func ListenTCP(addr string, tlsConf *tls.Config, cfg TCPConfig) (*TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &TCPListener{
		ln: ln, tlsConf: tls13(tlsConf, ""), cfg: cfg,
		conns: make(chan Conn, 64), done: make(chan struct{}),
		slots: make(chan struct{}, 256),
	}
	go l.run()
	return l, nil
}

// Addr is the address the listener is bound to.
func (l *TCPListener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening; connections already accepted stay up.
func (l *TCPListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.ln.Close()
}

// Accept waits for the next connection whose handshake finished.
func (l *TCPListener) Accept(ctx context.Context) (Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *TCPListener) run() {
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				l.Close()
				return
			}
			time.Sleep(50 * time.Millisecond) // out of descriptors: wait a moment
			continue
		}
		select {
		case l.slots <- struct{}{}:
			go func() {
				defer func() { <-l.slots }()
				l.handshake(raw)
			}()
		default:
			raw.Close() // too many handshakes at once
		}
	}
}

func (l *TCPListener) handshake(raw net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.handshakeTimeout())
	defer cancel()
	tc := tls.Server(raw, l.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return
	}
	c, err := newTCPConn(ctx, tc, false, l.cfg)
	if err != nil {
		raw.Close()
		return
	}
	select {
	case l.conns <- c:
	case <-l.done:
		c.CloseWithError(0, "listener closed")
	}
}
