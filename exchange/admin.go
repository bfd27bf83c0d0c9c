package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/adminsock"
	"github.com/babgate/bab/internal/hostcheck"
)

// The admin API is HTTP on a Unix socket. Its file permissions decide
// who may connect, and the caller's credentials what they may do
// (adminauth.go); every call that may change state is audited (audit.go).

// AdminHost is the Host that clients of the admin socket send
// (http://exchange/v1/…); the socket refuses every other.
const AdminHost = "exchange"

// adminHosts is the socket's one name: no browser can reach a Unix
// socket, but a local proxy that forwards to it could carry one's
// requests.
var adminHosts = hostcheck.Exact("the Bab exchange's admin socket", AdminHost)

// listenAdmin opens the admin socket: mode 0660 for the exchange's user
// and group, and an ACL entry for the read-only group.
func (x *Exchange) listenAdmin() (net.Listener, error) {
	o := adminsock.Options{Log: x.log.With("subsys", "admin")}
	if g := x.cfg.AdminReadOnlyGroup; g != "" {
		o.Groups = []string{g}
	}
	ln, err := adminsock.Listen(x.cfg.AdminSocket, o)
	if err != nil {
		return nil, fmt.Errorf("exchange: admin socket: %w", err)
	}
	return ln, nil
}

func (x *Exchange) serveAdmin(ctx context.Context, ln net.Listener) {
	acc := newAdminAccess(x.cfg.AdminReadOnlyGroup, x.log.With("subsys", "admin"))
	srv := &http.Server{
		Handler:           adminHosts.Guard(x.audited(acc.authorize(x.AdminHandler()))),
		ConnContext:       acc.withCaller,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		x.log.Error("admin API stopped", "err", err)
	}
}

// TokenRequest asks for an enrollment token.
type TokenRequest struct {
	Member string `json:"member"`
	Name   string `json:"name,omitempty"`
	TTL    string `json:"ttl,omitempty"` // Go duration, default 24h
	// EKHash binds the token to one TPM, for TPMs without an EK
	// certificate ("sha256:" and 64 hex digits, as the appliance shows it).
	EKHash string `json:"ek_hash,omitempty"`
	// Golden PCR values (hex SHA-256 by PCR index) the appliance's boot
	// state must have at enrollment.
	Golden map[int]string `json:"golden,omitempty"`
	// Replace makes the token enroll a new appliance in place of the one
	// enrolled as Name, which must exist; without it, a Name that is
	// enrolled is refused.
	Replace bool `json:"replace,omitempty"`
}

// TokenResponse carries a new token.
type TokenResponse struct {
	Token   string    `json:"token"`
	Member  string    `json:"member"`
	Expires time.Time `json:"expires"`
}

// AdminError is the admin API's error body.
type AdminError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// AdminHandler serves the ops API. Who may call what is decided in front
// of it (serveAdmin).
func (x *Exchange) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !x.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("POST /v1/tokens", x.serveTokenCreate)
	mux.HandleFunc("POST /v1/policy", x.servePolicyPush)
	mux.HandleFunc("GET /v1/policy/bundle", func(w http.ResponseWriter, r *http.Request) {
		signed := x.signed.Load()
		if signed == nil {
			adminErr(w, http.StatusNotFound, "no_policy", "the exchange has no policy yet")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*signed)
	})
	mux.HandleFunc("GET /v1/rollout", func(w http.ResponseWriter, r *http.Request) {
		st, err := x.Rollout()
		if err != nil {
			adminErr(w, http.StatusNotFound, "no_rollout", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /v1/rollout/promote", x.servePromote)
	mux.HandleFunc("POST /v1/rollout/abort", x.serveAbort)
	mux.HandleFunc("GET /v1/policy", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, x.PolicyStatus())
	})
	mux.HandleFunc("GET /v1/policy/acks", func(w http.ResponseWriter, r *http.Request) {
		v := x.PolicyStatus().Version
		if q := r.URL.Query().Get("version"); q != "" {
			n, err := strconv.ParseUint(q, 10, 64)
			if err != nil {
				adminErr(w, http.StatusBadRequest, "bad_version", fmt.Sprintf("version %q: give a policy version number", q))
				return
			}
			v = n
		}
		acked, connected := x.Acked(v)
		writeJSON(w, http.StatusOK, PolicyAcks{Version: v, Acked: acked, Connected: connected})
	})
	mux.HandleFunc("GET /v1/appliances", func(w http.ResponseWriter, r *http.Request) {
		f, err := x.Fleet()
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("GET /v1/appliances/{id...}", func(w http.ResponseWriter, r *http.Request) {
		d, err := x.Appliance(r.PathValue("id"))
		if err != nil {
			applianceErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("POST /v1/revoke/{id...}", x.serveApplianceAction(x.Revoke))
	mux.HandleFunc("POST /v1/rebaseline/{id...}", x.serveApplianceAction(x.Rebaseline))
	mux.HandleFunc("GET /v1/audit", x.serveAudit)
	x.traceHandlers(mux)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		addr := ""
		if a, ok := x.addr.Load().(net.Addr); ok {
			addr = a.String()
		}
		writeJSON(w, http.StatusOK, map[string]any{"listen": addr, "pin": x.ca.Pin(), "policy": x.PolicyStatus(),
			"version": Version, "connected": len(x.allSessions())})
	})
	return mux
}

func applianceErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrUnknownAppliance):
		adminErr(w, http.StatusNotFound, "unknown_appliance", "no enrolled appliance has that identifier (bab-exchange appliances lists them)")
	case errors.Is(err, ident.ErrInvalid):
		adminErr(w, http.StatusBadRequest, "bad_appliance", err.Error())
	default:
		adminErr(w, http.StatusUnprocessableEntity, "refused", err.Error())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, AdminError{Error: msg, Code: code})
}
