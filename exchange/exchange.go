package exchange

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/ca"
	"github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/ratelimit"
	"github.com/babgate/bab/internal/workers"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Version is the software version reported to ops; set at build time.
var Version = "dev"

// Exchange is one running exchange.
type Exchange struct {
	cfg   *config.Config
	log   *slog.Logger
	store *store.Store
	ca    *ca.CA
	// pushMu serialises pushes and guards the trust fields: trust must
	// sign the next bundle; bundleTrust verified the current one, and is
	// what newly enrolled appliances pin so that they accept it.
	pushMu      sync.Mutex
	trust       policy.Trust
	bundleTrust policy.Trust
	// vendors are the TPM makers' CAs EK certificates are checked against.
	vendors *vendorCAs

	policy atomic.Pointer[policy.Policy]
	staged atomic.Pointer[rollout] // a bundle in a staged rollout, if any

	// Requests in flight by consumer appliance and by consumer and
	// provider pair, against cfg.Limits.
	byConsumer, byPair inflight
	enrolling          atomic.Int64           // enrollment connections being served
	signed             atomic.Pointer[[]byte] // the current bundle as signed

	mu       sync.RWMutex // written when a tunnel comes or goes, read per request
	sessions map[ident.Appliance][]*session

	workers *workers.Pool // serve the tunnels' request streams

	metrics *exchangeMetrics // served at /metrics on admin_listen

	trace  *tracer
	next   atomic.Uint64     // round robin over a route's provider appliances
	limits ratelimit.Limiter // the policy's rate limits, per consumer member
	ready  atomic.Bool
	// onReady runs once the QUIC listener and the admin socket are up.
	onReady func()
	addr    atomic.Value // net.Addr of the QUIC listener once bound

	// subjects hash requests' subjects for the trace (subject.go).
	subjects *subjectKeyring
}

// New opens the exchange's state and prepares it to run.
func New(cfg *config.Config, log *slog.Logger) (*Exchange, error) {
	x := &Exchange{cfg: cfg, log: log, sessions: map[ident.Appliance][]*session{}, workers: workers.New()}
	x.metrics = newMetrics(x)
	for _, f := range cfg.OpsKeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("exchange: read ops key: %w", err)
		}
		k, err := policy.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("exchange: ops key %s: %w", f, err)
		}
		x.trust.Keys = append(x.trust.Keys, k)
	}
	if len(x.trust.Keys) == 0 {
		return nil, errors.New("exchange: no ops keys configured (ops_keys in bab-exchange.yaml): the exchange cannot verify policy without them")
	}
	x.trust.Threshold = cfg.PolicyThreshold
	v, err := loadVendorCAs(cfg.Attestation.VendorCAFiles)
	if err != nil {
		return nil, err
	}
	x.vendors = v
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	x.store = st
	if err := x.loadCA(); err != nil {
		st.Close()
		return nil, err
	}
	if err := x.loadPolicy(); err != nil {
		st.Close()
		return nil, err
	}
	x.restoreLimits()
	signer, err := x.traceSigner()
	if err != nil {
		st.Close()
		return nil, err
	}
	x.trace = newTracer(st, log.With("subsys", "trace"), x.metrics, signer, cfg.TraceQueue, cfg.TraceQueueWait, cfg.TraceCheckpointEvery, cfg.TraceRetention)
	if x.subjects, err = loadSubjectKeys(st, cfg.SubjectKeyPath(), log.With("subsys", "trace")); err != nil {
		st.Close()
		return nil, err
	}
	x.trace.subjects, x.trace.inFlight = x.subjects, cfg.RequestTimeoutMax+time.Minute
	return x, nil
}

func (x *Exchange) loadCA() error {
	certDER, keyDER, err := x.store.CA()
	if err != nil {
		return err
	}
	if certDER == nil {
		c, key, err := ca.New("Bab exchange CA", time.Now())
		if err != nil {
			return err
		}
		if err := x.store.SetCA(c.CertDER, key); err != nil {
			return err
		}
		x.log.Info("created the exchange CA", "pin", c.Pin())
		x.ca = c
		return nil
	}
	x.ca, err = ca.Load(certDER, keyDER)
	return err
}

func (x *Exchange) loadPolicy() error {
	x.bundleTrust = x.trust
	signed, version, err := x.store.CurrentPolicy()
	if err != nil || signed == nil {
		return err
	}
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return fmt.Errorf("exchange: stored policy v%d: %w", version, err)
	}
	tr, err := x.store.CurrentTrust()
	if err != nil {
		return err
	}
	// The bundle is checked with the trust that accepted it; after it, the
	// trust it announced is in force (the configured ops keys are only
	// where trust starts).
	verifiedBy, err := policy.TrustFromRecord(tr.VerifiedBy, x.trust)
	if err != nil {
		return err
	}
	p, err := s.VerifyOver(verifiedBy, time.Now(), nil)
	if errors.Is(err, policy.ErrExpired) {
		x.log.Warn("the current policy has expired; requests are refused until ops push a new one", "version", version)
		p, err = s.VerifyOver(verifiedBy, time.Time{}, nil)
	}
	if err != nil {
		x.log.Error("the stored policy does not verify with the ops keys that accepted it; waiting for a new push", "version", version, "err", err)
		return nil
	}
	if x.trust, err = policy.TrustFromRecord(tr.Next, p.After(verifiedBy)); err != nil {
		return err
	}
	x.bundleTrust = verifiedBy
	x.policy.Store(p)
	x.signed.Store(&signed)
	return x.loadStaged()
}

// loadStaged restores a rollout that was in progress when the exchange
// stopped; a staged bundle that no longer verifies is dropped with a log.
func (x *Exchange) loadStaged() error {
	raw, err := x.store.Staged()
	if err != nil || raw == nil {
		return err
	}
	var r rollout
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("exchange: stored rollout: %w", err)
	}
	s, err := policy.ParseSigned(r.Signed)
	if err == nil {
		r.policy, err = s.VerifyOver(x.trust, time.Time{}, nil)
	}
	if err != nil {
		x.log.Error("dropping a staged rollout that no longer verifies", "err", err)
		return x.store.SetStaged(nil)
	}
	x.staged.Store(&r)
	return nil
}

// Close releases the state file; Run closes it on return.
func (x *Exchange) Close() error { return x.store.Close() }

// Pin is the CA pin that enrollment tokens carry.
func (x *Exchange) Pin() string { return x.ca.Pin() }

// Run serves until ctx ends.
func (x *Exchange) Run(ctx context.Context) error {
	defer x.store.Close()
	tlsConf, err := x.serverTLS()
	if err != nil {
		return err
	}
	qc := wire.QUICConfig()
	// One connection may not open more streams than its appliance may have
	// requests in flight (and a few more, refused at once): this bounds
	// the copy buffers one office can hold at the exchange.
	qc.MaxIncomingStreams = int64(x.cfg.Limits.RequestsPerAppliance) + 64
	x.gateHandshakes(qc)
	ln, err := quic.ListenAddr(x.cfg.Listen, tlsConf, qc)
	if err != nil {
		return fmt.Errorf("exchange: listen on %s (UDP): %w", x.cfg.Listen, err)
	}
	defer ln.Close()
	x.addr.Store(ln.Addr())
	tcp, err := x.listenTCP(ln.Addr(), tlsConf)
	if err != nil {
		return err
	}
	admin, err := x.listenAdmin()
	if err != nil {
		return err
	}
	defer admin.Close()
	mon, err := x.listenMonitor()
	if err != nil {
		return err
	}
	defer mon.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { x.trace.run(ctx) })
	wg.Go(func() { x.serveAdmin(ctx, admin) })
	wg.Go(func() { x.serveMonitor(ctx, mon) })
	wg.Go(func() { x.keepLimits(ctx) })
	wg.Go(func() { x.watchSessions(ctx) })
	if tcp != nil {
		defer tcp.Close()
		wg.Go(func() { x.acceptTCP(ctx, tcp) })
	}
	x.ready.Store(true)
	if x.onReady != nil {
		x.onReady()
	}
	x.log.Info("exchange ready", "listen", ln.Addr().String(), "tcp", tcp != nil, "admin", x.cfg.AdminSocket, "pin", x.ca.Pin())
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			x.ready.Store(false)
			x.closeSessions()
			cancel()
			wg.Wait()
			x.flushLimits()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("exchange: accept: %w", err)
		}
		go x.serveConn(ctx, transport.FromQUIC(conn))
	}
}

// serverTLS makes a fresh server key each start (the CA is what appliances
// trust) and asks for client certificates, which tunnel connections must
// present and enrollment connections may not have yet.
func (x *Exchange) serverTLS() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("exchange: server key: %w", err)
	}
	leaf, err := x.ca.IssueServer(key.Public(), x.cfg.Names, time.Now(), 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf, x.ca.CertDER}, PrivateKey: key}},
		NextProtos:   []string{wire.ALPNTunnel, wire.ALPNEnroll},
		ClientAuth:   tls.RequestClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.NegotiatedProtocol != wire.ALPNTunnel {
				return nil
			}
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, c := range cs.PeerCertificates {
				raw[i] = c.Raw
			}
			_, err := x.ca.VerifyClient(raw, time.Now(), CertGrace)
			return err
		},
	}, nil
}

func (x *Exchange) serveConn(ctx context.Context, conn transport.Conn) {
	switch conn.TLS().NegotiatedProtocol {
	case wire.ALPNEnroll:
		x.serveEnroll(ctx, conn)
	case wire.ALPNTunnel:
		x.serveTunnel(ctx, conn)
	default:
		conn.CloseWithError(wire.CloseProtocol, "unknown protocol")
	}
}

// CertGrace is how long after its certificate expired an appliance may
// still connect, so that one that was cut off longer than its certificate
// lived can come back and renew: only with a certificate of its registered
// key that admission accepts (the last issued, or the one the last renewal
// replaced), and only while it is enrolled and not revoked. The appliance
// renews at its next check; the exchange does not force it. Taking an
// appliance out is the registry's job, not expiry's.
const CertGrace = 30 * 24 * time.Hour

// enrollTrust is what a new appliance pins: the trust that verifies the
// current bundle, and that bundle's version, from which on the rotations
// it must follow are delivered to it.
func (x *Exchange) enrollTrust() (policy.Trust, uint64) {
	x.pushMu.Lock()
	defer x.pushMu.Unlock()
	var v uint64
	if p := x.policy.Load(); p != nil {
		v = p.Version()
	}
	t := x.bundleTrust
	t.Threshold = max(t.Threshold, 1)
	return t, v
}

// OpsFingerprint is the fingerprint of the trust a new appliance pins,
// which enrollment tokens carry: the configured ops keys until a policy
// rotates them.
func (x *Exchange) OpsFingerprint() string {
	t, _ := x.enrollTrust()
	return t.Fingerprint()
}
