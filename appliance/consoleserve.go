package appliance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os/user"
	"regexp"
	"strconv"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/internal/adminsock"
	"github.com/babgate/bab/internal/hostcheck"
	"github.com/babgate/bab/problem"
)

var consoleHosts = hostcheck.Exact("the Bab appliance's console socket", console.SocketHost)

// peerKey is the context key of a console socket connection's caller.
type peerKey struct{}

// listenConsole opens the console socket, mode 0660, for the service's
// user and group, with an ACL entry for console.socket_group.
func (a *Appliance) listenConsole() (net.Listener, error) {
	ln, err := adminsock.Listen(a.cfg.Console.Socket, adminsock.Options{Groups: []string{a.cfg.Console.SocketGroup}, Log: a.log.With("subsys", "console")})
	if err != nil {
		return nil, fmt.Errorf("console socket (console.socket): %w", err)
	}
	return ln, nil
}

// consoleSocketServer serves the console API on the socket: the kernel
// names the caller, root and members of the admin group are office IT.
func (a *Appliance) consoleSocketServer() *http.Server {
	return &http.Server{Handler: consoleHosts.Guard(a.consoleHandler(a.socketCaller)), ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if p, err := adminsock.PeerOf(c); err == nil {
				ctx = context.WithValue(ctx, peerKey{}, p)
			}
			return ctx
		}}
}

func (a *Appliance) socketCaller(r *http.Request) (console.WhoAmI, *problem.Problem) {
	p, ok := r.Context().Value(peerKey{}).(adminsock.Peer)
	if !ok {
		return console.WhoAmI{}, problem.New(problem.Unauthenticated, "The kernel did not say who is calling on the console socket.")
	}
	name := "uid-" + strconv.FormatUint(uint64(p.UID), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10)); err == nil {
		name = u.Username
	}
	role := console.RoleClerk
	if p.UID == 0 || a.inGroup(p, a.cfg.Admin.SocketGroup) {
		role = console.RoleOfficeIT
	}
	return a.whoAmI("local", name, role), nil
}

func (a *Appliance) inGroup(p adminsock.Peer, group string) bool {
	g, err := user.LookupGroup(group)
	if err != nil {
		return false
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	return err == nil && p.InGroup(uint32(gid))
}

func (a *Appliance) whoAmI(consoleName, userName string, role console.Role) console.WhoAmI {
	return console.WhoAmI{User: userName, Console: consoleName, Role: role, Appliance: a.id.String(), Member: a.id.Member.String(),
		System: "console/" + consoleName + "/" + userName}
}

// validUser is a desktop account name as a console may send it.
var validUser = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$`)

// certCaller identifies a paired console by the certificate the appliance
// issued it (checked against the state file on every request, so that a
// revoked console is refused at once) and the clerk by the account the
// console says it runs under.
func (a *Appliance) certCaller(r *http.Request) (console.WhoAmI, *problem.Problem) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return console.WhoAmI{}, problem.New(problem.Unauthenticated, "This console is not paired with this appliance: ask office IT for a pairing code (bab console pair).")
	}
	leaf := r.TLS.PeerCertificates[0]
	name, serial := leaf.Subject.CommonName, hex.EncodeToString(leaf.SerialNumber.Bytes())
	list, err := a.store.Consoles()
	if err != nil {
		return console.WhoAmI{}, problem.New(problem.Internal, "The paired consoles could not be read.")
	}
	for _, c := range list {
		if c.Name != name || c.Serial != serial {
			continue
		}
		if c.Revoked {
			return console.WhoAmI{}, problem.New(problem.Unauthenticated, "Office IT revoked this console: ask them to pair it again under a new name.")
		}
		u := r.Header.Get(console.HeaderUser)
		if !validUser.MatchString(u) {
			return console.WhoAmI{}, problem.New(problem.BadRequest, "The console did not say which desktop account it runs under.")
		}
		return a.whoAmI(name, u, console.Role(c.Role)), nil
	}
	return console.WhoAmI{}, problem.New(problem.Unauthenticated, "This console's certificate is not one this appliance issued to a paired console.")
}

// consoleHTTPS is the console's address on the office network: pairing
// without a certificate, everything else with one the console CA issued.
func (a *Appliance) consoleHTTPS() (*http.Server, *tls.Config, error) {
	ca, err := a.consoleCA()
	if err != nil {
		return nil, nil, err
	}
	cert, err := a.consoleServerCert(ca)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+console.PathPair, a.servePair)
	mux.Handle("/", a.consoleHandler(a.certCaller))
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, tc, nil
}

// consoleServerCert is the appliance's HTTPS certificate for consoles,
// issued by its console CA for console.names and the listen address.
func (a *Appliance) consoleServerCert(ca *consoleAuthority) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: a.id.String()}, NotBefore: now.Add(-time.Minute),
		NotAfter: now.Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	names := append([]string{}, a.cfg.Console.Names...)
	if host, _, err := net.SplitHostPort(a.cfg.Console.Listen); err == nil && host != "" {
		names = append(names, host)
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Leaf, key.Public(), ca.PrivateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Leaf.Raw}, PrivateKey: key}, nil
}

// The control socket's console endpoints, for bab console pair, ls and
// revoke (office IT on the server).
func (a *Appliance) controlConsoles(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/consoles/code", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Role   console.Role `json:"role"`
			ValidS float64      `json:"valid_s"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || (req.Role != console.RoleClerk && req.Role != console.RoleOfficeIT) {
			problem.Write(w, problem.New(problem.BadRequest, "The role must be clerk or office-it."), 0)
			return
		}
		valid := time.Duration(req.ValidS * float64(time.Second))
		if valid <= 0 || valid > maxPairCodeLife {
			problem.Write(w, problem.New(problem.BadRequest, fmt.Sprintf("A pairing code is valid for more than 0 and at most %s.", maxPairCodeLife)), 0)
			return
		}
		code, exp, err := a.newPairCode(req.Role, valid)
		if err != nil {
			problem.Write(w, problem.New(problem.Internal, err.Error()), 0)
			return
		}
		writeJSON(w, map[string]any{"code": code, "expires": exp, "role": req.Role, "listen": a.cfg.Console.Listen})
	})
	mux.HandleFunc("GET /v1/consoles", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.pairedConsoles()) })
	mux.HandleFunc("POST /v1/consoles/revoke", func(w http.ResponseWriter, r *http.Request) {
		var req console.RevokeRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil {
			problem.Write(w, problem.New(problem.BadRequest, err.Error()), 0)
			return
		}
		if err := a.revokeConsole(req.Name); err != nil {
			problem.Write(w, problem.New(problem.BadRequest, err.Error()), 0)
			return
		}
		writeJSON(w, map[string]string{"revoked": req.Name})
	})
}
