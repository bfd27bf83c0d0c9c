package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
)

// subject is what doctor learnt about the appliance: from the running
// service's control socket, or, while the service is not running, from the
// state file.
type subject struct {
	adm     config.Admin      // the control socket
	running *appliance.Status // nil when the service does not answer
	denied  error             // the control socket refused this user (ErrControlDenied)
	id      *store.Identity   // from the state file, when the service is not running
	idErr   error             // why id is nil then
}

// examine asks the running service for its status, and reads the state
// file if it does not answer (but not if the socket refused this user).
func examine(ctx context.Context, cfg *config.Config) *subject {
	s := &subject{adm: cfg.Admin}
	st, err := fetchStatus(ctx, cfg.Admin, 3*time.Second)
	switch {
	case err == nil:
		s.running = st
		return s
	case errors.Is(err, ErrControlDenied):
		// The state file is the service's alone too: nothing more to
		// learn without the rights the message asks for.
		s.denied = err
		return s
	}
	s.id, s.idErr = readIdentity(cfg.StateDir)
	return s
}

// findings are the service and enrollment lines.
func (s *subject) findings() []finding {
	if s.denied != nil {
		return []finding{{check: "service", result: "not checked: permission denied on its control socket " + s.adm.Socket, v: fail,
			fix: fmt.Sprintf("run sudo bab doctor, or have an administrator add you to group %s (sudo usermod -aG %s NAME; it takes effect at your next login)",
				s.adm.SocketGroup, s.adm.SocketGroup)}}
	}
	if st := s.running; st != nil {
		enrolled := finding{check: "enrollment", result: fmt.Sprintf("enrolled as %s (member %s) with a %s key", st.Appliance, st.Member, keyName(st.Certificate.Key))}
		if anyRevoked(st.Tunnels) {
			enrolled.result += ", but revoked by the exchange"
			enrolled.v = fail
			enrolled.fix = "central ops make a token with bab-exchange token create --replace NAME; run bab enroll --reenroll with it"
		}
		return []finding{{check: "service", result: "running; its control socket " + s.adm.Socket + " answers"}, enrolled}
	}
	svc := finding{check: "service", result: "not running (its control socket " + s.adm.Socket + " does not answer)", v: warn,
		fix: "systemctl start bab; if it stops again, its log says why: journalctl -u bab"}
	switch {
	case errors.Is(s.idErr, store.ErrLocked):
		return []finding{{check: "service", result: "a bab process holds the state file, but its control socket " + s.adm.Socket + " does not answer", v: fail,
			fix: "see its log (journalctl -u bab); restart it with systemctl restart bab"}}
	case errors.Is(s.idErr, store.ErrNotEnrolled):
		return []finding{svc, {check: "enrollment", result: "not enrolled", v: fail,
			fix: "get a token from central ops and run: bab enroll --exchange HOST:PORT --token TOKEN"}}
	case s.idErr != nil:
		return []finding{svc, {check: "enrollment", result: s.idErr.Error(), v: fail,
			fix: "check the state directory above; as a last resort, re-enroll with a fresh token (bab enroll --reenroll)"}}
	}
	return []finding{svc, {check: "enrollment", result: fmt.Sprintf("enrolled as %s with a %s key", s.id.Appliance, keyName(s.id.KeyKind))}}
}

// exchanges are the exchange addresses the appliance dials: the config's,
// or those recorded at enrollment.
func (s *subject) exchanges(cfg *config.Config) []string {
	if len(cfg.Exchanges) > 0 {
		return cfg.Exchanges
	}
	switch {
	case s.running != nil:
		var out []string
		for _, t := range s.running.Tunnels {
			out = append(out, t.Addr)
		}
		return out
	case s.id != nil:
		return s.id.Exchanges
	}
	return nil
}

// probe probes each exchange with the appliance's own certificate: through
// the running service, which holds the key, or directly from the state
// file when the service is not running. When no probe could be made, why
// says so.
func (s *subject) probe(ctx context.Context, cfg *config.Config, addrs []string) (map[string]tunnel.ProbeResult, string) {
	var results []tunnel.ProbeResult
	switch {
	case len(addrs) == 0:
		return nil, ""
	case s.running != nil:
		var err error
		if results, err = probeThroughService(ctx, s.adm); err != nil {
			return nil, err.Error()
		}
	case s.id != nil:
		var err error
		if results, err = probeDirectly(ctx, cfg, s.id, addrs); err != nil {
			return nil, err.Error()
		}
	default:
		return nil, "needs the appliance's certificate (see the lines above)"
	}
	out := make(map[string]tunnel.ProbeResult, len(results))
	for _, r := range results {
		out[r.Addr] = r
	}
	return out, ""
}

// probeDirectly probes the exchanges with the key and certificate from
// the state file, as the service would dial them.
func probeDirectly(ctx context.Context, cfg *config.Config, id *store.Identity, addrs []string) ([]tunnel.ProbeResult, error) {
	signer, closeKey, err := openKey(cfg, id)
	if err != nil {
		return nil, err
	}
	defer closeKey()
	ca, err := x509.ParseCertificate(id.CA)
	if err != nil {
		return nil, fmt.Errorf("stored exchange CA: %w", err)
	}
	if len(id.Chain) == 0 {
		return nil, errors.New("the stored identity has no certificate: re-enroll")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	cert := &tls.Certificate{Certificate: id.Chain, PrivateKey: signer}
	out := make([]tunnel.ProbeResult, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			out[i] = tunnel.ProbeResult{Addr: addr, Outcome: tunnel.ProbeFailed, Detail: err.Error()}
			continue
		}
		tc := &tls.Config{
			MinVersion: tls.VersionTLS13,
			RootCAs:    roots,
			ServerName: host,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return cert, nil
			},
		}
		wg.Go(func() { out[i] = tunnel.ProbeBoth(ctx, addr, tc, tunnel.ProbeTimeout) })
	}
	wg.Wait()
	return out, nil
}
