package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// ProbeTimeout is how long a probe waits for the exchange: past it, the
// exchange is taken not to answer.
const ProbeTimeout = 5 * time.Second

// ProbeOutcome says how far a probe got.
type ProbeOutcome string

// Probe outcomes, from the best to the worst news.
const (
	// ProbeOK: the handshake completed with mutual TLS and the exchange
	// told its time.
	ProbeOK ProbeOutcome = "ok"
	// ProbeNoTime: the handshake completed and the exchange accepted the
	// certificate, but it did not answer the probe (an exchange older than
	// the probe closes the connection instead).
	ProbeNoTime ProbeOutcome = "no_time"
	// ProbeRefused: the exchange answered but refused this appliance: its
	// certificate at the handshake, or its enrollment after it.
	ProbeRefused ProbeOutcome = "refused"
	// ProbeRevoked: the exchange answered and refuses this appliance for
	// good: ops revoked it, or enrolled another in its place.
	ProbeRevoked ProbeOutcome = "revoked"
	// ProbeUntrusted: something answered, but its certificate is not from
	// the exchange this appliance enrolled with.
	ProbeUntrusted ProbeOutcome = "untrusted"
	// ProbeNoAnswer: nothing answered within the timeout; over UDP that
	// usually means a firewall drops the packets.
	ProbeNoAnswer ProbeOutcome = "no_answer"
	// ProbeFailed: anything else, such as no route to the host.
	ProbeFailed ProbeOutcome = "failed"
)

// ProbeResult is what one probe of an exchange found.
type ProbeResult struct {
	Addr    string       `json:"addr"`
	Outcome ProbeOutcome `json:"outcome"`
	Detail  string       `json:"detail,omitempty"` // the error, when not ok
	// Exchange is the exchange's name, from its welcome.
	Exchange string `json:"exchange,omitempty"`
	// Sent and Received are this machine's clock when the probe left and
	// when the welcome arrived; ExchangeTime is the exchange's clock in
	// between. All three are set only when Outcome is ProbeOK.
	Sent         time.Time `json:"sent,omitzero"`
	Received     time.Time `json:"received,omitzero"`
	ExchangeTime time.Time `json:"exchange_time,omitzero"`
	// TCP is the same probe over TLS on TCP, the fallback where UDP is
	// blocked (ProbeBoth sets it; Probe checks QUIC only).
	TCP *ProbeResult `json:"tcp,omitempty"`
}

// Skew estimates how far the exchange's clock is ahead of this machine's
// (negative: behind): the exchange read its clock somewhere between sent
// and received, taken to be the middle, so the estimate is good to within
// half the round trip, which is returned as within.
func Skew(sent, received, exchange time.Time) (skew, within time.Duration) {
	rtt := received.Round(0).Sub(sent.Round(0))
	mid := sent.Round(0).Add(rtt / 2)
	return exchange.Sub(mid), rtt / 2
}

// Probe checks an exchange the way a tunnel reaches it, without starting
// a session: a QUIC handshake with the tunnel's mutual TLS, then a probe
// frame that the exchange answers with its welcome (and so its clock)
// before closing. A running tunnel to the same exchange is not disturbed.
// tc is the tunnel's client configuration; the ALPN is set here.
func Probe(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) ProbeResult {
	qc := wire.QUICConfig()
	qc.HandshakeIdleTimeout = timeout
	return probeOver(ctx, addr, tc, timeout, func(ctx context.Context, tc *tls.Config) (transport.Conn, error) {
		return transport.DialQUIC(ctx, addr, tc, qc)
	})
}

// ProbeTCP is Probe over TLS on TCP.
func ProbeTCP(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) ProbeResult {
	return probeOver(ctx, addr, tc, timeout, func(ctx context.Context, tc *tls.Config) (transport.Conn, error) {
		return transport.DialTCP(ctx, addr, tc, transport.TCPConfig{HandshakeTimeout: timeout})
	})
}

// ProbeBoth probes over QUIC and over TCP at once: the result is QUIC's,
// with TCP's in its TCP field.
func ProbeBoth(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) ProbeResult {
	tcp := make(chan ProbeResult, 1)
	go func() { tcp <- ProbeTCP(ctx, addr, tc, timeout) }()
	res := Probe(ctx, addr, tc, timeout)
	t := <-tcp
	res.TCP = &t
	return res
}

func probeOver(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration,
	dial func(context.Context, *tls.Config) (transport.Conn, error)) ProbeResult {
	res := ProbeResult{Addr: addr}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc = tc.Clone()
	tc.NextProtos = []string{wire.ALPNTunnel}
	conn, err := dial(ctx, tc)
	if err != nil {
		res.Outcome, res.Detail = classify(err, false)
		return res
	}
	defer conn.CloseWithError(wire.CloseNormal, "probe done")
	welcome, sent, received, err := probe(ctx, conn)
	if err != nil {
		res.Outcome, res.Detail = classify(err, true)
		return res
	}
	res.Outcome, res.Exchange = ProbeOK, welcome.Exchange
	res.Sent, res.Received, res.ExchangeTime = sent, received, welcome.ServerTime
	return res
}

// Probe probes this tunnel's exchange over QUIC and TCP with the
// tunnel's own TLS configuration, beside the tunnel.
func (t *Tunnel) Probe(ctx context.Context, timeout time.Duration) ProbeResult {
	return ProbeBoth(ctx, t.cfg.Addr, t.cfg.TLS, timeout)
}

func probe(ctx context.Context, conn transport.Conn) (w wire.Welcome, sent, received time.Time, err error) {
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return w, sent, received, fmt.Errorf("open stream: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	sent = time.Now()
	if err := wire.WriteJSON(s, wire.FrameProbe, wire.Probe{}); err != nil {
		return w, sent, received, fmt.Errorf("send probe: %w", err)
	}
	ft, payload, err := wire.ReadFrame(wire.NewReader(s), 64<<10)
	received = time.Now()
	if err != nil {
		return w, sent, received, fmt.Errorf("read welcome: %w", err)
	}
	if ft == wire.FrameError {
		if we, derr := wire.DecodeError(payload); derr == nil {
			return w, sent, received, fmt.Errorf("exchange refused the probe: %w", we)
		}
	}
	if ft != wire.FrameWelcome {
		return w, sent, received, fmt.Errorf("%w: %s instead of welcome", wire.ErrUnexpectedFrame, ft)
	}
	if err := wire.DecodeJSON(ft, payload, &w); err != nil {
		return w, sent, received, err
	}
	if w.ServerTime.IsZero() {
		return w, sent, received, errors.New("the welcome does not carry the exchange's time")
	}
	return w, sent, received, nil
}

// classify turns a probe's error into an outcome. connected says whether
// the handshake had completed as far as this side could tell: with TLS 1.3
// the exchange checks the client certificate after that, so a refusal may
// still arrive.
func classify(err error, connected bool) (ProbeOutcome, string) {
	var te *quic.TransportError
	var ae *quic.ApplicationError
	var ht *quic.HandshakeTimeoutError
	var it *quic.IdleTimeoutError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var ne net.Error
	detail := err.Error()
	switch {
	case errors.As(err, &te) && te.Remote && te.ErrorCode.IsCryptoError():
		return ProbeRefused, "its certificate was refused at the handshake (" + strings.TrimPrefix(te.ErrorCode.Message(), "tls: ") + ")"
	case errors.As(err, &verify):
		return ProbeUntrusted, verify.Err.Error()
	case errors.As(err, &unknownCA), errors.As(err, &badHost), errors.As(err, &invalid):
		return ProbeUntrusted, detail
	case errors.As(err, &ae) && ae.Remote && ae.ErrorCode == wire.CloseRevoked:
		return ProbeRevoked, ae.ErrorMessage
	case errors.As(err, &ae) && ae.Remote && ae.ErrorCode == wire.CloseUnenrolled:
		if ae.ErrorMessage == "" {
			return ProbeRefused, "the exchange does not hold this appliance as enrolled"
		}
		return ProbeRefused, ae.ErrorMessage
	case errors.As(err, &ht), errors.As(err, &it), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		if connected {
			return ProbeNoTime, "the exchange did not answer the probe in time"
		}
		return ProbeNoAnswer, detail
	case connected && errors.As(err, &ae) && ae.Remote:
		return ProbeNoTime, detail
	}
	return ProbeFailed, detail
}
