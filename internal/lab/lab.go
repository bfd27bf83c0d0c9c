package lab

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/pathsim"
	"github.com/babgate/bab/internal/profile"
	"github.com/babgate/bab/internal/swtpm"
	"github.com/babgate/bab/policy"
)

// Options shape a lab.
type Options struct {
	Dir    string // working directory; everything the lab writes is below it
	BinDir string // holds bab and bab-exchange; built into Dir/bin when empty
	// Heartbeat for the exchange's control streams (default 2s, so that
	// tests notice a dead peer quickly).
	Heartbeat time.Duration
	// Lanes is the appliances' tunnels.lanes, the connections each keeps
	// to the exchange (default 1, so that tests see one tunnel per
	// appliance at the exchange; the shipped default is 4).
	Lanes int
	// MaxBodyBytes is the consumer gateway's body limit (default 0: none).
	MaxBodyBytes int64
	// ExchangeYAML is added to the exchange's config file as it is, for
	// sections a test sets (limits, say).
	ExchangeYAML string
	// BackendURL is the provider's backend for the civil-status service
	// (default: the lab's sample backend), so that tests can put backends
	// that are not ours behind Bab.
	BackendURL string
	// ProfileDir, if set, makes every process write a CPU profile there
	// (exchange.prof, hq.prof, dc1.prof) until it stops; with LockProfiles
	// also its block and mutex profiles (exchange.block.prof,
	// exchange.mutex.prof, …) when it stops; with Traces an execution
	// trace of its whole run (exchange.trace, …).
	ProfileDir   string
	LockProfiles bool
	Traces       bool
	// SoftwareKeys makes the appliances use software keys even where swtpm
	// is installed (the exchange then allows them). Without swtpm the lab
	// uses software keys anyway.
	SoftwareKeys bool
	// AttestEvery is the exchange's attestation interval (default 10m).
	AttestEvery time.Duration
	// CertLifetime is the lifetime of appliance certificates (default 24h).
	CertLifetime time.Duration
	// OpsKeys is how many ops keys the exchange trusts (default 1), of
	// which Threshold (default 1) must sign a bundle. The keys are written
	// as ops.key, ops-2.key, … in the exchange's directory.
	OpsKeys, Threshold int
	// AdminGroup is the group given the appliances' control sockets
	// (admin.socket_group); empty leaves the default, bab-admin.
	AdminGroup string
	// ConsoleGroup is the appliances' console.socket_group (default: the
	// packaged bab-console, which a test machine may not have).
	ConsoleGroup string
	// ExchangeGroup, if set, is the group the exchange runs with, as
	// Group= in its unit: its members are ops, with full rights on the
	// admin socket. The exchange still runs as root.
	ExchangeGroup string
	// ReadOnlyGroup is the exchange's admin_readonly_group; empty leaves
	// the default, bab-exchange-ro.
	ReadOnlyGroup string
	// ExchangeBin, if set, is the bab-exchange binary to run instead of
	// BinDir's (a test build, say), with ExchangeEnv added to its
	// environment.
	ExchangeBin string
	ExchangeEnv []string
	// DaemonEnv is added to the environment of every daemon.
	DaemonEnv []string
	// Transport is the appliances' transport setting (auto, quic or
	// tcp); empty leaves the default, auto.
	Transport string
	// ViaPath puts a pathsim.Path in front of the exchange (Lab.Path) and
	// aims the appliances at it, to enroll and to connect; with BlockUDP
	// the path drops UDP from the start, as a network that blocks it.
	ViaPath, BlockUDP bool
}

// Lab is a running federation.
type Lab struct {
	Dir      string
	Bin      string
	Exchange *Exchange
	Consumer *Appliance // the commune
	Provider *Appliance // the civil registry
	Backend  *Backend
	// Path is between the appliances and the exchange when
	// Options.ViaPath is set, else nil.
	Path    *pathsim.Path
	OpsKey  ed25519.PrivateKey   // the first of OpsKeys
	OpsKeys []ed25519.PrivateKey // all the ops keys the exchange trusts
	// threshold is how many of OpsKeys Push signs with.
	threshold int
	// keys are the appliance keys the lab's ops approved: the policy
	// binds each name to its key (see Approve).
	keys map[ident.Appliance]string

	profileDir   string
	traces       bool
	daemonEnv    []string
	lanes        int // the appliances' tunnels.lanes
	lockProfiles bool
	transport    string                // the appliances' transport setting, if set
	adminGroup   string                // the appliances' admin.socket_group, if set
	consoleGroup string                // the appliances' console.socket_group, if set
	tpms         bool                  // the appliances run on swtpm instances
	sims         map[string]*swtpm.Sim // by appliance name
	mu           sync.Mutex
	version      uint64
}

// Exchange is the lab's bab-exchange.
type Exchange struct {
	*Proc
	Config   string
	Addr     string // UDP host:port
	Socket   string
	StateDir string
	Admin    *http.Client
	// AdminURL is http://127.0.0.1:port of admin_listen, which serves
	// /healthz, /readyz and /metrics.
	AdminURL string
	args     []string
	env      []string
	gid      uint32 // the group it runs with; 0 keeps the lab's
}

// Appliance is one of the lab's bab processes.
type Appliance struct {
	*Proc
	ID         ident.Appliance
	Config     string
	StateDir   string
	GatewayURL string // http://host:port
	// AdminURL is http://127.0.0.1:port of admin.listen, which serves
	// /metrics, /healthz and /readyz.
	AdminURL string
	// Socket is the control socket (admin.socket), which serves
	// /v1/status and /v1/probe: Admin and Call use it.
	Socket string
	// ConsoleSocket and ConsoleURL are where consoles reach it: the
	// console socket and the console's HTTPS address.
	ConsoleSocket, ConsoleURL string
	Token                     string     // the bearer token of the local system configured on it
	TPM                       *swtpm.Sim // nil when the appliance uses a software key
	// Key is its key as the exchange registers it and the policy binds
	// it (policy.KeyHash), read from its state after it enrolled.
	Key  string
	args []string
}

// Start builds (if needed) and starts the federation, enrolls both
// appliances, then, their keys known, approves them: pushes the first
// policy, which binds each name to its key, and waits until both applied
// it.
func Start(ctx context.Context, o Options) (_ *Lab, err error) {
	if o.Dir == "" {
		return nil, errors.New("lab: Options.Dir is required")
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 2 * time.Second
	}
	if o.CertLifetime == 0 {
		o.CertLifetime = 24 * time.Hour
	}
	l := &Lab{Dir: o.Dir, Bin: o.BinDir, profileDir: o.ProfileDir, lockProfiles: o.LockProfiles, traces: o.Traces, daemonEnv: o.DaemonEnv, adminGroup: o.AdminGroup, consoleGroup: o.ConsoleGroup,
		transport: o.Transport, keys: map[ident.Appliance]string{}, lanes: max(o.Lanes, 1)}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.Bin == "" {
		l.Bin = filepath.Join(o.Dir, "bin")
		if err := Build(l.Bin); err != nil {
			return nil, err
		}
	}
	if l.Backend, err = StartBackend(); err != nil {
		return nil, err
	}
	l.tpms = !o.SoftwareKeys && SwtpmInstalled()
	if l.tpms {
		if err := l.startTPMs(); err != nil {
			return nil, err
		}
	}
	if err := l.startExchange(ctx, o); err != nil {
		return nil, err
	}
	if o.ViaPath {
		if l.Path, err = pathsim.New(l.Exchange.Addr); err != nil {
			return nil, err
		}
		l.Path.BlockUDP(o.BlockUDP)
	}
	if l.Consumer, err = l.addAppliance(ctx, CommuneHQ, "", o.MaxBodyBytes, l.sims[CommuneHQ.Name]); err != nil {
		return nil, err
	}
	backend := l.Backend.URL
	if o.BackendURL != "" {
		backend = o.BackendURL
	}
	if l.Provider, err = l.addAppliance(ctx, RegistryDC, backend, 0, l.sims[RegistryDC.Name]); err != nil {
		return nil, err
	}
	l.Approve(l.Consumer)
	l.Approve(l.Provider)
	if _, err := l.Push(ctx, nil); err != nil {
		return nil, err
	}
	if err := l.AwaitPolicy(ctx, l.version); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lab) startExchange(ctx context.Context, o Options) error {
	dir := filepath.Join(l.Dir, "exchange")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var pubFiles []string
	for i := range max(o.OpsKeys, 1) {
		pub, priv, err := policy.GenerateKey()
		if err != nil {
			return err
		}
		name := "ops"
		if i > 0 {
			name = fmt.Sprintf("ops-%d", i+1)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), policy.MarshalPrivateKey(priv), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pub"), policy.MarshalPublicKey(pub), 0o644); err != nil {
			return err
		}
		l.OpsKeys = append(l.OpsKeys, priv)
		pubFiles = append(pubFiles, name+".pub")
	}
	l.OpsKey = l.OpsKeys[0]
	l.threshold = max(o.Threshold, 1)
	port, err := freeUDPPort()
	if err != nil {
		return err
	}
	attestation, err := l.attestationConfig(dir, o.AttestEvery)
	if err != nil {
		return err
	}
	monitor, err := freeTCPPort()
	if err != nil {
		return err
	}
	x := &Exchange{Config: filepath.Join(dir, "bab-exchange.yaml"), Addr: fmt.Sprintf("127.0.0.1:%d", port),
		Socket: filepath.Join(dir, "admin.sock"), StateDir: filepath.Join(dir, "state"),
		AdminURL: fmt.Sprintf("http://127.0.0.1:%d", monitor)}
	if o.ExchangeGroup != "" {
		g, err := user.LookupGroup(o.ExchangeGroup)
		if err != nil {
			return fmt.Errorf("lab: exchange group: %w", err)
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		x.gid = uint32(gid)
	}
	readOnly := ""
	if o.ReadOnlyGroup != "" {
		readOnly = "admin_readonly_group: " + o.ReadOnlyGroup + "\n"
	}
	cfg := fmt.Sprintf(`version: 1
state_dir: %s
listen: %s
names: [127.0.0.1, localhost]
admin_socket: %s
admin_listen: 127.0.0.1:%d
%sops_keys: [%s]
policy_threshold: %d
heartbeat: %s
certificate_lifetime: %s
%s
%s
log:
  level: info
`, x.StateDir, x.Addr, x.Socket, monitor, readOnly, strings.Join(pubFiles, ", "), l.threshold, o.Heartbeat, o.CertLifetime, attestation, o.ExchangeYAML)
	if err := os.WriteFile(x.Config, []byte(cfg), 0o644); err != nil {
		return err
	}
	x.Admin = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", x.Socket)
	}}}
	bin := filepath.Join(l.Bin, "bab-exchange")
	if o.ExchangeBin != "" {
		bin = o.ExchangeBin
	}
	x.args = []string{bin, "serve", "--config", x.Config}
	x.env = o.ExchangeEnv
	l.Exchange = x
	return l.StartExchange(ctx)
}

// StartExchange (re)starts the exchange process and waits until it is ready.
func (l *Lab) StartExchange(ctx context.Context) error {
	x := l.Exchange
	p, err := startProcAs("bab-exchange", filepath.Join(l.Dir, "exchange", "exchange.log"), append(l.profileEnv("exchange"), x.env...), x.gid, x.args...)
	if err != nil {
		return err
	}
	x.Proc = p
	return poll(ctx, 20*time.Second, func() error {
		if p.Exited() {
			return fmt.Errorf("bab-exchange exited: %s", tail(p.Log()))
		}
		resp, err := x.Admin.Get("http://exchange/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
}

// profileEnv is the environment added to the daemon name's: DaemonEnv,
// and the profiles asked for.
func (l *Lab) profileEnv(name string) []string {
	if l.profileDir == "" {
		return slices.Clip(l.daemonEnv)
	}
	env := append(slices.Clip(l.daemonEnv), profile.Env+"="+filepath.Join(l.profileDir, name+".prof"))
	if l.lockProfiles {
		env = append(env, profile.BlockEnv+"="+filepath.Join(l.profileDir, name+".block.prof"),
			profile.MutexEnv+"="+filepath.Join(l.profileDir, name+".mutex.prof"))
	}
	if l.traces {
		env = append(env, profile.TraceEnv+"="+filepath.Join(l.profileDir, name+".trace"))
	}
	return env
}

// CreateToken asks the exchange for an enrollment token.
func (l *Lab) CreateToken(member ident.Member, name string) (string, error) {
	body, _ := json.Marshal(exchange.TokenRequest{Member: member.String(), Name: name, TTL: "1h"})
	var tr exchange.TokenResponse
	if err := l.Exchange.Call("POST", "/v1/tokens", body, &tr); err != nil {
		return "", err
	}
	return tr.Token, nil
}

// Call sends one request to the exchange's admin socket and decodes the JSON
// answer into out.
func (x *Exchange) Call(method, path string, body []byte, out any) error {
	req, _ := http.NewRequest(method, "http://exchange"+path, strings.NewReader(string(body)))
	resp, err := x.Admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var ae exchange.AdminError
		_ = json.Unmarshal(raw, &ae)
		return fmt.Errorf("exchange %s %s: %s: %s", method, path, resp.Status, ae.Error)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// addAppliance writes the config of a new appliance id in its own
// directory, enrolls it with a fresh token and starts it.
func (l *Lab) addAppliance(ctx context.Context, id ident.Appliance, backend string, maxBody int64, sim *swtpm.Sim) (*Appliance, error) {
	a, err := l.writeAppliance(filepath.Join(l.Dir, id.Name), id, backend, maxBody, sim)
	if err != nil {
		return nil, err
	}
	tok, err := l.CreateToken(id.Member, id.Name)
	if err != nil {
		return nil, err
	}
	if err := l.enroll(ctx, a, tok); err != nil {
		return nil, err
	}
	return a, l.StartAppliance(ctx, a)
}

// writeAppliance writes the config of an appliance living in dir, on sim
// or with a software key when sim is nil, with fresh gateway and admin
// ports and a fresh local system token.
func (l *Lab) writeAppliance(dir string, id ident.Appliance, backend string, maxBody int64, sim *swtpm.Sim) (*Appliance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := freeTCPPorts(3) // distinct: each is held until all are chosen
	if err != nil {
		return nil, err
	}
	gw, adm, con := ports[0], ports[1], ports[2]
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(token))
	a := &Appliance{ID: id, Config: filepath.Join(dir, "bab.yaml"), StateDir: filepath.Join(dir, "state"), TPM: sim,
		GatewayURL: fmt.Sprintf("http://127.0.0.1:%d", gw), AdminURL: fmt.Sprintf("http://127.0.0.1:%d", adm),
		Socket: filepath.Join(dir, "admin.sock"), ConsoleSocket: filepath.Join(dir, "console.sock"),
		ConsoleURL: fmt.Sprintf("https://127.0.0.1:%d", con), Token: token}
	group := ""
	if l.adminGroup != "" {
		group = "\n  socket_group: " + l.adminGroup
	}
	consoleGroup := ""
	if l.consoleGroup != "" {
		consoleGroup = "\n  socket_group: " + l.consoleGroup
	}
	cfg := fmt.Sprintf(`version: 1
state_dir: %s
admin:
  listen: 127.0.0.1:%d
  socket: %s%s
console:
  socket: %s%s
  listen: 127.0.0.1:%d
  names: [127.0.0.1, localhost]
gateway:
  listen: 127.0.0.1:%d
  max_body_bytes: %d
  clients:
    - name: %s
      token_sha256: %x
log:
  level: info
tunnels:
  lanes: %d
`, a.StateDir, adm, a.Socket, group, a.ConsoleSocket, consoleGroup, con, gw, maxBody, CommuneSystem, sum, max(l.lanes, 1))
	if l.transport != "" {
		cfg += "  transport: " + l.transport + "\n"
	}
	cfg += "tpm:\n  device: " + TPMDevice(sim) + "\n"
	if backend != "" {
		cfg += "services:\n"
		for _, svc := range []ident.Service{CivilStatus, FamilyRecord} {
			cfg += fmt.Sprintf("  - service: %s\n    backend: %s\n    timeout: 5m\n", svc, backend)
		}
	}
	if err := os.WriteFile(a.Config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return a, nil
}

// enroll runs bab enroll for a with token, reads the key it enrolled with
// and prepares its serve command.
func (l *Lab) enroll(ctx context.Context, a *Appliance, token string) error {
	if _, err := run(ctx, filepath.Join(l.Bin, "bab"), "enroll", "--config", a.Config, "--exchange", l.ExchangeAddr(), "--token", token, "--name", a.ID.Name); err != nil {
		return err
	}
	a.args = []string{filepath.Join(l.Bin, "bab"), "serve", "--config", a.Config}
	return a.LoadKey()
}

// ExchangeAddr is the address the appliances are given for the exchange:
// its own, or the path's in front of it.
func (l *Lab) ExchangeAddr() string {
	if l.Path != nil {
		return l.Path.Addr
	}
	return l.Exchange.Addr
}

// LoadKey reads the key a enrolled with from its state (a must be stopped),
// after it enrolled again by other means than the lab's.
func (a *Appliance) LoadKey() error {
	st, err := store.Open(a.StateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.Identity()
	if err != nil {
		return err
	}
	if len(id.Chain) == 0 {
		return fmt.Errorf("lab: %s has no certificate", a.ID)
	}
	leaf, err := x509.ParseCertificate(id.Chain[0])
	if err != nil {
		return err
	}
	a.Key, err = policy.KeyHash(leaf.PublicKey)
	return err
}

// Approve is the lab's ops approving a's key for its name: the policies
// the lab signs from then on bind a.ID to a.Key, as fleet approve and
// policy sign do. An appliance enrolled in place of another carries
// requests only once approved and a policy pushed.
func (l *Lab) Approve(a *Appliance) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys[a.ID] = a.Key
}

// Keys are the appliance keys the lab's policies bind, by appliance.
func (l *Lab) Keys() map[ident.Appliance]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.keys)
}

// DefaultPolicy is the lab's policy at version, issued at now, with the
// keys the lab approved (see the package function DefaultPolicy).
func (l *Lab) DefaultPolicy(version uint64, now time.Time) *policy.Bundle {
	return DefaultPolicy(version, now, l.Keys())
}

// PolicySource is the lab's policy at version as the YAML ops write, with
// the keys the lab approved (see the package function PolicySource).
func (l *Lab) PolicySource(version uint64) string {
	return PolicySource(version, l.Keys())
}

// StartAppliance (re)starts an appliance and waits until its control
// socket answers (not necessarily ready: the exchange may be down on
// purpose).
func (l *Lab) StartAppliance(ctx context.Context, a *Appliance) error {
	p, err := startProc("bab "+a.ID.Name, filepath.Join(filepath.Dir(a.Config), "bab.log"), l.profileEnv(a.ID.Name), a.args...)
	if err != nil {
		return err
	}
	a.Proc = p
	return poll(ctx, 20*time.Second, func() error {
		if p.Exited() {
			return fmt.Errorf("bab %s exited: %s", a.ID.Name, tail(p.Log()))
		}
		_, err := a.Status()
		return err
	})
}

// Admin is a client of the appliance's control socket, as bab status
// uses it; send requests to http://bab/….
func (a *Appliance) Admin() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.Socket)
	}}}
}

// Call sends one request to the appliance's control socket and decodes
// the JSON answer into out.
func (a *Appliance) Call(method, path string, out any) error {
	req, _ := http.NewRequest(method, "http://"+appliance.ControlHost+path, nil)
	resp, err := a.Admin().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s on %s: %s: %s", method, path, a.ID, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Status fetches the appliance's status from its control socket.
func (a *Appliance) Status() (*appliance.Status, error) {
	var st appliance.Status
	if err := a.Call("GET", "/v1/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// AwaitReady waits until the appliance has a policy and a tunnel up.
func (a *Appliance) AwaitReady(ctx context.Context) error {
	return poll(ctx, 30*time.Second, func() error {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(a.AdminURL + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s not ready: %s", a.ID, strings.TrimSpace(string(b)))
		}
		return nil
	})
}

// Push signs a bundle with the ops key and pushes it through the admin
// socket. mutate, if not nil, edits the default bundle (with the keys the
// lab approved) first. It returns the new version.
func (l *Lab) Push(ctx context.Context, mutate func(*policy.Bundle)) (uint64, error) {
	l.mu.Lock()
	l.version++
	v := l.version
	l.mu.Unlock()
	b := l.DefaultPolicy(v, time.Now().UTC())
	if mutate != nil {
		mutate(b)
	}
	s, err := policy.Sign(b, l.OpsKeys[:l.threshold]...)
	if err != nil {
		return 0, err
	}
	raw, err := s.Marshal()
	if err != nil {
		return 0, err
	}
	return v, l.Exchange.Call("POST", "/v1/policy", raw, nil)
}

// Policy is the policy the exchange distributes now, verified with the
// lab's ops keys.
func (l *Lab) Policy() (*policy.Policy, error) {
	var signed policy.Signed
	if err := l.Exchange.Call("GET", "/v1/policy/bundle", nil, &signed); err != nil {
		return nil, err
	}
	t := policy.Trust{Threshold: l.threshold}
	for _, k := range l.OpsKeys {
		t.Keys = append(t.Keys, k.Public().(ed25519.PublicKey))
	}
	return signed.VerifyOver(t, time.Now(), nil)
}

// PolicyVersion is the version of the last bundle Push sent.
func (l *Lab) PolicyVersion() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// AwaitPolicy waits until both appliances enforce version v.
func (l *Lab) AwaitPolicy(ctx context.Context, v uint64) error {
	for _, a := range []*Appliance{l.Consumer, l.Provider} {
		err := poll(ctx, 30*time.Second, func() error {
			st, err := a.Status()
			if err != nil {
				return err
			}
			if st.Policy.Version < v {
				return fmt.Errorf("%s enforces policy v%d, waiting for v%d", a.ID, st.Policy.Version, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Close stops everything the lab started.
func (l *Lab) Close() {
	for _, a := range []*Appliance{l.Consumer, l.Provider} {
		if a != nil && a.Proc != nil {
			_ = a.Stop()
		}
	}
	if l.Exchange != nil && l.Exchange.Proc != nil {
		_ = l.Exchange.Stop()
	}
	for _, s := range l.sims {
		_ = s.Stop()
	}
	if l.Backend != nil {
		_ = l.Backend.Close()
	}
	if l.Path != nil {
		l.Path.Close()
	}
}

// Request builds a request from the consumer's local system to the civil
// registry's service through the commune's gateway.
func (l *Lab) Request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.Consumer.GatewayURL+"/"+CivilStatus.String()+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.Consumer.Token)
	return req, nil
}

func poll(ctx context.Context, limit time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: gave up after %s: %w", limit, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// FreeTCPPort is a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort() (int, error) { return freeTCPPort() }

// freeTCPPorts are n distinct TCP ports on 127.0.0.1 that were free a
// moment ago: each listener stays open until all are chosen, so that the
// system cannot hand the same port out twice.
func freeTCPPorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPPort is a port free for UDP and for TCP: the exchange listens on
// both.
func freeUDPPort() (int, error) {
	for range 20 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		c.Close()
		if err == nil {
			t.Close()
			return port, nil
		}
	}
	return 0, errors.New("lab: no port free for both UDP and TCP")
}
