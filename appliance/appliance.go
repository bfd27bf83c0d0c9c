package appliance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/ratelimit"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// Version is the software version; set at build time.
var Version = "dev"

// Appliance is one running office appliance.
type Appliance struct {
	cfg   *config.Config
	log   *slog.Logger
	store *store.Store
	id    ident.Appliance
	key   *keys.Key
	// keyHash names key as the policy binds it to this appliance's name.
	keyHash string
	tpm     *tpm.TPM // open while the appliance runs, when its key is in a TPM
	ak      *tpm.AK  // the attestation key from enrollment, for the exchange's checks

	quarantine atomic.Pointer[string] // the exchange's reason, while quarantined
	attestedAt atomic.Int64           // when the last verdict came, Unix nanoseconds
	recent     *recentLog             // the last warnings and errors, for status
	limits     ratelimit.Limiter      // the policy's rate limits, for this appliance's calls
	trust      policy.Trust
	// policyProblem says why no policy is in force although one was
	// cached (it did not verify); nil otherwise.
	policyProblem atomic.Pointer[string]
	// activity remembers the office's recent exchanges for the console.
	activity activityLog
	// The consoles: pairing codes, and the console CA once loaded.
	pair        pairing
	consoleMu   sync.Mutex
	consoleAuth *consoleAuthority
	roots       *x509.CertPool

	cert   atomic.Pointer[tls.Certificate]
	policy atomic.Pointer[policy.Policy]
	// The end-to-end sessions with other appliances, and this appliance's
	// name and key as their handshakes present them.
	sess    sessions
	sealID  *seal.Identity
	applyMu sync.Mutex
	// Evidence of the requests sent and answered: the key that signs it,
	// and an outbox per tunnel (evidence.go).
	evSigner *evidence.Signer
	outboxes []*evidence.Outbox

	metrics *applianceMetrics // served at /metrics on the admin address

	tunnels  []*tunnel.Tunnel
	next     atomic.Uint64 // round robin over tunnels
	backends map[ident.Service]*backend
	clients  clientAuth

	gatewayAddr atomic.Value // net.Addr once listening
	adminAddr   atomic.Value
	ready       atomic.Bool
	inherited   Listeners // from the service manager, if any
}

// New opens the appliance's state and prepares every subsystem; Run starts
// them. It fails with store.ErrNotEnrolled before enrollment.
func New(cfg *config.Config, log *slog.Logger) (*Appliance, error) {
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	recent := new(recentLog)
	log = slog.New(recent.handler(log.Handler()))
	a := &Appliance{cfg: cfg, log: log, store: st, recent: recent}
	if err := a.init(); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *Appliance) init() error {
	a.metrics = newMetrics(a)
	id, err := a.store.Identity()
	if err != nil {
		return err
	}
	if a.id, err = ident.ParseAppliance(id.Appliance); err != nil {
		return fmt.Errorf("stored identity: %w", err)
	}
	if err := a.openKey(id); err != nil {
		return err
	}
	if a.sealID, err = seal.NewIdentity(a.id, a.key.Signer); err != nil {
		return err
	}
	if a.keyHash, err = policy.KeyHash(a.key.Signer.Public()); err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(id.CA)
	if err != nil {
		return fmt.Errorf("stored exchange CA: %w", err)
	}
	a.roots = x509.NewCertPool()
	a.roots.AddCert(caCert)
	if err := a.setChain(id.Chain); err != nil {
		return err
	}
	if a.trust, err = PinnedTrust(id); err != nil {
		return err
	}
	a.loadPolicy()
	a.restoreLimits()
	if a.backends, err = newBackends(a.cfg.Services); err != nil {
		return err
	}
	if a.clients, err = newClientAuth(a.cfg.Gateway.Clients); err != nil {
		return err
	}
	addrs := a.cfg.Exchanges
	if len(addrs) == 0 {
		addrs = id.Exchanges
	}
	if len(addrs) == 0 {
		return errors.New("no exchange address: set exchanges in bab.yaml or re-enroll")
	}
	if err := a.initEvidence(len(addrs)); err != nil {
		return err
	}
	for i, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("exchange address %q: %w", addr, err)
		}
		tc := &tls.Config{
			MinVersion: tls.VersionTLS13,
			RootCAs:    a.roots,
			ServerName: host,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return a.cert.Load(), nil
			},
		}
		a.tunnels = append(a.tunnels, tunnel.New(tunnel.Config{
			Addr: addr, TLS: tc, Handler: a, Log: a.log.With("subsys", "tunnel"), Evidence: a.outboxes[i],
			Dial: tunnel.DialConfig{Mode: transport.Mode(a.cfg.Transport)},
		}))
	}
	return nil
}

// openKey opens the tunnel key: in the TPM it was made in, or the
// software key of an appliance enrolled without one.
func (a *Appliance) openKey(id *store.Identity) error {
	if keys.Kind(id.KeyKind) != keys.KindTPM {
		k, err := keys.Open(keys.Kind(id.KeyKind), id.KeyBlob)
		a.key = k
		return err
	}
	dev := a.cfg.TPM.Device
	if dev == config.TPMNone {
		dev = id.TPMDevice
	}
	t, err := tpm.Open(dev)
	if err != nil {
		return err
	}
	signer, err := t.Signer(id.KeyBlob)
	if err != nil {
		t.Close()
		return err
	}
	a.tpm = t
	a.key = &keys.Key{Kind: keys.KindTPM, Blob: id.KeyBlob, Signer: signer}
	if len(id.AKBlob) > 0 {
		a.ak = &tpm.AK{Public: id.AKArea, Blob: id.AKBlob}
	}
	return nil
}

func (a *Appliance) setChain(chain [][]byte) error {
	if len(chain) == 0 {
		return errors.New("stored identity has no certificate; re-enroll")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return fmt.Errorf("stored certificate: %w", err)
	}
	a.cert.Store(&tls.Certificate{Certificate: chain, PrivateKey: a.key.Signer, Leaf: leaf})
	return nil
}

// ID is the appliance's identifier.
func (a *Appliance) ID() ident.Appliance { return a.id }

// Hello is what the tunnel says first on each connection.
func (a *Appliance) Hello() wire.Hello {
	var v uint64
	if p := a.policy.Load(); p != nil {
		v = p.Version()
	}
	return wire.Hello{Appliance: a.id.String(), Software: Version, PolicyVersion: v, PolicyDeltas: true}
}

// Run serves until ctx ends. ready, if not nil, is called once the cached
// policy is loaded and the gateway, the admin address and the control
// socket listen (the point at which systemd is told READY=1).
func (a *Appliance) Run(ctx context.Context, ready func()) error {
	defer a.store.Close()
	if a.tpm != nil {
		defer a.tpm.Close()
	}
	gl, err := listen("gateway", a.inherited.Gateway, a.cfg.Gateway.Listen)
	if err != nil {
		return err
	}
	al, err := listen("admin", a.inherited.Admin, a.cfg.Admin.Listen)
	if err != nil {
		gl.Close()
		return err
	}
	cl, err := a.listenControl()
	if err != nil {
		gl.Close()
		al.Close()
		return err
	}
	kl, err := a.listenConsole()
	if err != nil {
		gl.Close()
		al.Close()
		cl.Close()
		return err
	}
	a.gatewayAddr.Store(gl.Addr())
	a.adminAddr.Store(al.Addr())

	gw := &http.Server{Handler: a.GatewayHandler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
	if a.cfg.Gateway.TLS != nil {
		tc, err := gatewayTLS(a.cfg.Gateway.TLS)
		if err != nil {
			gl.Close()
			al.Close()
			cl.Close()
			kl.Close()
			return err
		}
		gl = tls.NewListener(gl, tc)
	}
	adm := &http.Server{Handler: a.monitorHosts().Guard(a.MonitorHandler()), ReadHeaderTimeout: 10 * time.Second}
	ctl := &http.Server{Handler: controlHosts.Guard(a.ControlHandler()), ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The tunnels outlive the servers: requests in flight finish, and the
	// evidence of the last ones reaches the exchange, before they close.
	tctx, stopTunnels := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTunnels()
	var wg, servers sync.WaitGroup
	for _, t := range a.tunnels {
		wg.Go(func() { _ = t.Run(tctx) })
	}
	a.runEvidence(tctx)
	wg.Go(func() { a.renewLoop(ctx) })
	wg.Go(func() { a.expiryWatch(ctx) })
	wg.Go(func() { a.keepLimits(ctx) })
	serve := func(name string, srv *http.Server, ln net.Listener) {
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
		servers.Go(func() {
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			_ = srv.Shutdown(sctx)
		})
	}
	serve("gateway", gw, gl)
	serve("admin", adm, al)
	serve("control", ctl, cl)
	serve("console", a.consoleSocketServer(), kl)
	if a.cfg.Console.Listen != "" {
		srv, tc, err := a.consoleHTTPS()
		if err == nil {
			var hl net.Listener
			if hl, err = net.Listen("tcp", a.cfg.Console.Listen); err == nil {
				serve("console https", srv, tls.NewListener(hl, tc))
			}
		}
		if err != nil {
			cancel(fmt.Errorf("console https (console.listen): %w", err))
		}
	}
	a.ready.Store(true)
	a.log.Info("appliance ready", "appliance", a.id.String(), "gateway", gl.Addr().String(), "admin", al.Addr().String(),
		"control", a.cfg.Admin.Socket,
		"policy_version", a.Hello().PolicyVersion)
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	a.ready.Store(false)
	servers.Wait()
	a.flushEvidence()
	stopTunnels()
	wg.Wait()
	a.flushLimits()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// listen returns the socket the service manager passed for name, or
// listens on addr.
func listen(name string, inherited net.Listener, addr string) (net.Listener, error) {
	if inherited != nil {
		return inherited, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", name, addr, err)
	}
	return ln, nil
}

// revoked reports whether the exchange refused every tunnel's last attempt
// as revoked.
func (a *Appliance) revoked() bool {
	for _, t := range a.tunnels {
		if !t.State().Revoked {
			return false
		}
	}
	return len(a.tunnels) > 0
}

// openStream opens a request stream on a connected tunnel, spreading
// requests over the tunnels that are up; it says which tunnel.
func (a *Appliance) openStream(ctx context.Context) (transport.Stream, *tunnel.Tunnel, error) {
	n := len(a.tunnels)
	start := a.next.Add(1)
	for i := range n {
		t := a.tunnels[(int(start)+i)%n]
		if !t.Connected() {
			continue
		}
		s, err := t.OpenStream(ctx)
		if err == nil {
			return s, t, nil
		}
	}
	return nil, nil, tunnel.ErrNotConnected
}

func gatewayTLS(c *config.ServerTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("gateway TLS: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.ClientCAFile != "" {
		pool, err := loadPool(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("gateway TLS client CA: %w", err)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}
