package appliance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/console"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/problem"
)

// Pairing codes: short-lived, one use each, and few wrong guesses.
const (
	maxPairCodeLife  = time.Hour
	pairMaxFailures  = 10 // wrong codes within pairFailureSpan stop all pairing for that span
	pairFailureSpan  = time.Minute
	consoleCertLife  = 2 * 365 * 24 * time.Hour
	consoleCALife    = 20 * 365 * 24 * time.Hour
	maxPairedConsole = 1000
)

// pairing holds the codes office IT made with bab console pair, in memory
// only: a restart voids them.
type pairing struct {
	mu       sync.Mutex
	codes    map[string]*pairCode // by secret
	failures []time.Time
}

type pairCode struct {
	role    console.Role
	expires time.Time
	used    bool
}

// newPairCode makes a one-time code for a console of role, valid for
// valid; it returns the code as office IT reads it and when it expires.
func (a *Appliance) newPairCode(role console.Role, valid time.Duration) (string, time.Time, error) {
	ca, err := a.consoleCA()
	if err != nil {
		return "", time.Time{}, err
	}
	code := console.NewCode(ca.Leaf.RawSubjectPublicKeyInfo)
	secret, _, err := console.SplitCode(code)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := time.Now().Add(valid)
	a.pair.mu.Lock()
	defer a.pair.mu.Unlock()
	if a.pair.codes == nil {
		a.pair.codes = map[string]*pairCode{}
	}
	a.pair.codes[secret] = &pairCode{role: role, expires: exp}
	return code, exp, nil
}

// redeem spends a code: it returns the role it was made for, or why not.
func (a *Appliance) redeem(code string) (console.Role, *problem.Problem) {
	secret, _, err := console.SplitCode(code)
	now := time.Now()
	a.pair.mu.Lock()
	defer a.pair.mu.Unlock()
	recent := a.pair.failures[:0]
	for _, f := range a.pair.failures {
		if now.Sub(f) < pairFailureSpan {
			recent = append(recent, f)
		}
	}
	a.pair.failures = recent
	if len(recent) >= pairMaxFailures {
		return "", problem.New(problem.NotAllowed, "Too many wrong pairing codes: pairing is paused for a minute.")
	}
	var c *pairCode
	for s, pc := range a.pair.codes {
		if err == nil && subtle.ConstantTimeCompare([]byte(s), []byte(secret)) == 1 {
			c = pc
		}
	}
	switch {
	case c == nil:
		a.pair.failures = append(a.pair.failures, now)
		return "", problem.New(problem.Unauthenticated, "This pairing code is not known: check it, or ask office IT for a new one (bab console pair).")
	case c.used:
		return "", problem.New(problem.Unauthenticated, "This pairing code was used already: ask office IT for a new one (bab console pair).")
	case now.After(c.expires):
		return "", problem.New(problem.Unauthenticated, "This pairing code has expired: ask office IT for a new one (bab console pair).")
	}
	c.used = true
	return c.role, nil
}

// servePair pairs a console: a valid code, a name not used before and a
// certificate request give it a client certificate of the console CA.
func (a *Appliance) servePair(w http.ResponseWriter, r *http.Request) {
	var req console.PairRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		problem.Write(w, problem.New(problem.BadRequest, "The pairing request is not valid JSON: "+err.Error()), 0)
		return
	}
	role, p := a.redeem(req.Code)
	if p == nil {
		p = checkConsoleName(req.Name)
	}
	if p != nil {
		a.log.Warn("console pairing refused", "subsys", "console", "name", req.Name, "reason", p.Detail)
		problem.Write(w, p, 0)
		return
	}
	resp, err := a.pairConsole(req.Name, role, req.CSR)
	if err != nil {
		code := problem.BadRequest
		if errors.Is(err, store.ErrConsoleExists) {
			err = fmt.Errorf("a console named %s was paired before; choose another name", req.Name)
		}
		problem.Write(w, problem.New(code, err.Error()), 0)
		return
	}
	a.log.Info("console paired", "subsys", "console", "name", req.Name, "role", role)
	writeJSON(w, resp)
}

func checkConsoleName(name string) *problem.Problem {
	if len(name) < 1 || len(name) > 32 {
		return problem.New(problem.BadRequest, "A console's name is 1 to 32 letters, digits and dashes, such as desk-3.")
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return problem.New(problem.BadRequest, "A console's name is 1 to 32 lower-case letters, digits and dashes, such as desk-3.")
		}
	}
	return nil
}

// pairConsole issues the console's certificate and records it.
func (a *Appliance) pairConsole(name string, role console.Role, csrDER []byte) (*console.PairResponse, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		return nil, fmt.Errorf("the certificate request is not valid: %w", err)
	}
	if list, err := a.store.Consoles(); err != nil || len(list) >= maxPairedConsole {
		return nil, fmt.Errorf("no more consoles can be paired (%d at most)", maxPairedConsole)
	}
	ca, err := a.consoleCA()
	if err != nil {
		return nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name, OrganizationalUnit: []string{string(role)}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(consoleCertLife),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Leaf, csr.PublicKey, ca.PrivateKey)
	if err != nil {
		return nil, err
	}
	c := store.Console{Name: name, Role: string(role), Serial: hex.EncodeToString(serial.Bytes()), PairedAt: now.UTC()}
	if err := a.store.AddConsole(c); err != nil {
		return nil, err
	}
	return &console.PairResponse{Chain: [][]byte{der}, CA: ca.Leaf.Raw, Role: role, Appliance: a.id.String()}, nil
}

// consoleCA returns the appliance's console CA, made on first use.
func (a *Appliance) consoleCA() (*consoleAuthority, error) {
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	if a.consoleAuth != nil {
		return a.consoleAuth, nil
	}
	stored, err := a.store.ConsoleCA()
	if err != nil {
		return nil, err
	}
	if stored == nil {
		if stored, err = a.store.SetConsoleCA(makeConsoleCA(a.id)); err != nil {
			return nil, err
		}
	}
	ca, err := parseConsoleCA(stored)
	if err != nil {
		return nil, fmt.Errorf("console CA: %w", err)
	}
	a.consoleAuth = ca
	return ca, nil
}

// consoleAuthority is the console CA, ready to sign.
type consoleAuthority struct {
	Leaf       *x509.Certificate
	PrivateKey *ecdsa.PrivateKey
}

func makeConsoleCA(id ident.Appliance) *store.ConsoleCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Bab console CA of " + id.String()},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(consoleCALife), IsCA: true, BasicConstraintsValid: true,
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return &store.ConsoleCA{Cert: der, Key: kb}
}

func parseConsoleCA(s *store.ConsoleCA) (*consoleAuthority, error) {
	leaf, err := x509.ParseCertificate(s.Cert)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("the key is not ECDSA")
	}
	return &consoleAuthority{Leaf: leaf, PrivateKey: key}, nil
}

// pairedConsoles lists the paired consoles for office IT.
func (a *Appliance) pairedConsoles() []console.Paired {
	list, err := a.store.Consoles()
	if err != nil {
		a.log.Warn("reading the paired consoles", "subsys", "console", "err", err)
	}
	out := make([]console.Paired, 0, len(list))
	for _, c := range list {
		out = append(out, console.Paired{Name: c.Name, Role: console.Role(c.Role), PairedAt: c.PairedAt, Serial: c.Serial, Revoked: c.Revoked})
	}
	return out
}

// revokeConsole revokes a paired console: its certificate is refused from
// the next request on, since every request looks its console up.
func (a *Appliance) revokeConsole(name string) error {
	if _, err := a.store.RevokeConsole(name); err != nil {
		return err
	}
	a.log.Info("console revoked", "subsys", "console", "name", name)
	return nil
}
