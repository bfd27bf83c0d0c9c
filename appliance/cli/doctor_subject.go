package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
)

// subject is what doctor learnt about the appliance: from the running
// service's admin API, or, while the service is not running, from the
// state file.
type subject struct {
	admin   string            // the admin address
	running *appliance.Status // nil when the service does not answer
	id      *store.Identity   // from the state file, when the service is not running
	idErr   error             // why id is nil then
}

// examine asks the running service for its status, and reads the state
// file if it does not answer.
func examine(ctx context.Context, cfg *config.Config) *subject {
	s := &subject{admin: cfg.Admin.Listen}
	if st, err := fetchStatus(ctx, cfg.Admin.Listen, 3*time.Second); err == nil {
		s.running = st
		return s
	}
	s.id, s.idErr = readIdentity(cfg.StateDir)
	return s
}

// fetchStatus reads /v1/status from the admin API at addr.
func fetchStatus(ctx context.Context, addr string, timeout time.Duration) (*appliance.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin API: %s", resp.Status)
	}
	var st appliance.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	return &st, nil
}

// findings are the service and enrollment lines.
func (s *subject) findings() []finding {
	if st := s.running; st != nil {
		enrolled := finding{check: "enrollment", result: fmt.Sprintf("enrolled as %s (member %s) with a %s key", st.Appliance, st.Member, keyName(st.Certificate.Key))}
		if anyRevoked(st.Tunnels) {
			enrolled.result += ", but revoked by the exchange"
			enrolled.v = fail
			enrolled.fix = "central ops make a token with bab-exchange token create --replace NAME; run bab enroll --reenroll with it"
		}
		return []finding{{check: "service", result: "running; its admin API at " + s.admin + " answers"}, enrolled}
	}
	svc := finding{check: "service", result: "not running (its admin API at " + s.admin + " does not answer)", v: warn,
		fix: "systemctl start bab; if it stops again, its log says why: journalctl -u bab"}
	switch {
	case errors.Is(s.idErr, store.ErrLocked):
		return []finding{{check: "service", result: "a bab process holds the state file, but the admin API at " + s.admin + " does not answer", v: fail,
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
		if results, err = probeThroughService(ctx, s.admin); err != nil {
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

// probeThroughService asks the running service to probe its exchanges.
func probeThroughService(ctx context.Context, admin string) ([]tunnel.ProbeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, tunnel.ProbeTimeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+admin+"/v1/probe", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the running service did not answer: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return nil, errors.New("the running service is older than this bab and cannot check its exchanges: restart it (systemctl restart bab)")
	default:
		return nil, fmt.Errorf("the running service answered %s", resp.Status)
	}
	var out []tunnel.ProbeResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("read the service's answer: %w", err)
	}
	return out, nil
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
		wg.Go(func() { out[i] = tunnel.Probe(ctx, addr, tc, tunnel.ProbeTimeout) })
	}
	wg.Wait()
	return out, nil
}
