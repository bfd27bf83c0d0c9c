package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// The admin API is HTTP on a Unix socket: who may write to the socket may
// run ops commands, so file permissions are the access control.

func (x *Exchange) listenAdmin() (net.Listener, error) {
	p := x.cfg.AdminSocket
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, fmt.Errorf("exchange: admin socket directory: %w", err)
	}
	// A socket left by a process that died is removed; a live one is not.
	if c, err := net.Dial("unix", p); err == nil {
		c.Close()
		return nil, fmt.Errorf("exchange: another exchange is serving %s", p)
	}
	_ = os.Remove(p)
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("exchange: admin socket: %w", err)
	}
	if err := os.Chmod(p, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("exchange: admin socket mode: %w", err)
	}
	return ln, nil
}

func (x *Exchange) serveAdmin(ctx context.Context, ln net.Listener) {
	srv := &http.Server{Handler: x.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
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

// AdminHandler serves the ops API.
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
	mux.HandleFunc("POST /v1/policy", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20+1))
		if err != nil {
			adminErr(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		var res *PushResult
		whole := r.URL.Query().Get("whole") == "true"
		if st := r.URL.Query().Get("stage"); st != "" {
			stage, serr := ParseStage(st)
			if serr != nil {
				adminErr(w, http.StatusBadRequest, "bad_stage", serr.Error())
				return
			}
			res, err = x.Stage(body, stage)
		} else if whole {
			res, err = x.PushWhole(body)
		} else {
			res, err = x.Push(body)
		}
		if err != nil {
			code := "policy_rejected"
			if errors.Is(err, policy.ErrNotNewer) {
				code = "policy_not_newer"
			}
			adminErr(w, http.StatusUnprocessableEntity, code, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
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
	mux.HandleFunc("POST /v1/rollout/promote", func(w http.ResponseWriter, r *http.Request) {
		res, err := x.Promote()
		if err != nil {
			adminErr(w, http.StatusUnprocessableEntity, "promote_refused", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /v1/rollout/abort", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20+1))
		if err != nil {
			adminErr(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		res, err := x.Abort(body)
		if err != nil {
			adminErr(w, http.StatusUnprocessableEntity, "abort_refused", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
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
	mux.HandleFunc("POST /v1/revoke/{id...}", func(w http.ResponseWriter, r *http.Request) {
		d, err := x.Revoke(r.PathValue("id"))
		if err != nil {
			applianceErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("POST /v1/rebaseline/{id...}", func(w http.ResponseWriter, r *http.Request) {
		d, err := x.Rebaseline(r.PathValue("id"))
		if err != nil {
			applianceErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /v1/trace", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 || limit > 10000 {
			limit = 100
		}
		t, err := x.store.Trace(limit)
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
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
