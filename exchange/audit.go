package exchange

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/policy"
)

// AuditRecord is one state-changing call on the admin socket, as
// bab-exchange audit ls lists it.
type AuditRecord = store.AuditRecord

// audited records every call on the admin socket that may change state
// (any method but GET and HEAD), refused ones included: once before it
// runs, so that no action goes unrecorded (if that write fails, the call
// is refused), and again when it ends, with its outcome. Each end is also
// logged with subsys=audit.
func (x *Exchange) audited(next http.Handler) http.Handler {
	log := x.log.With("subsys", "audit")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if readOnly(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		c := callerFrom(r)
		rec := &AuditRecord{At: time.Now().UTC(), UID: c.UID, User: c.User, PID: c.PID, Role: string(c.Role),
			Method: r.Method, Path: r.URL.Path, Outcome: "unfinished"}
		for k, vs := range r.URL.Query() {
			auditSet(rec, k, strings.Join(vs, ","))
		}
		if err := x.store.AddAudit(rec); err != nil {
			log.Error("audit log not written: call refused", "uid", c.UID, "method", r.Method, "path", r.URL.Path, "err", err)
			adminErr(w, http.StatusServiceUnavailable, "audit_unavailable",
				"refused: the exchange cannot write its audit log, and takes no action it cannot record: "+err.Error())
			return
		}
		aw := &auditWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(aw, r.WithContext(contextWithAudit(r.Context(), rec)))
		rec.Status, rec.Duration = aw.status, time.Since(rec.At)
		rec.Outcome, rec.Error = aw.outcome()
		if err := x.store.UpdateAudit(rec); err != nil {
			log.Error("audit log: the outcome was not recorded (the record says unfinished)", "seq", rec.Seq, "err", err)
		}
		level := slog.LevelInfo
		if rec.Status == http.StatusForbidden {
			level = slog.LevelWarn
		}
		attrs := []any{"seq", rec.Seq, "uid", rec.UID, "user", rec.User, "pid", rec.PID, "role", rec.Role,
			"method", rec.Method, "path", rec.Path, "status", rec.Status, "outcome", rec.Outcome, "duration", rec.Duration}
		keys := make([]string, 0, len(rec.Args))
		for k := range rec.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			attrs = append(attrs, "arg_"+k, rec.Args[k])
		}
		if rec.Error != "" {
			attrs = append(attrs, "err", rec.Error)
		}
		log.Log(r.Context(), level, "ops action", attrs...)
	})
}

// auditSet adds an argument to a record.
func auditSet(rec *AuditRecord, key, value string) {
	if rec.Args == nil {
		rec.Args = map[string]string{}
	}
	rec.Args[key] = value
}

type auditKey struct{}

func contextWithAudit(ctx context.Context, rec *AuditRecord) context.Context {
	return context.WithValue(ctx, auditKey{}, rec)
}

// auditArg adds an essential argument of the call r to its audit record;
// on a call that is not audited it does nothing.
func auditArg(r *http.Request, key, value string) {
	if rec, ok := r.Context().Value(auditKey{}).(*AuditRecord); ok {
		auditSet(rec, key, value)
	}
}

// auditVersion records the version a policy bundle states, read without
// verifying it: what a refused bundle claimed is worth recording too.
func auditVersion(r *http.Request, signed []byte) {
	s, err := policy.ParseSigned(signed)
	if err != nil {
		return
	}
	if b, err := s.Bundle(); err == nil {
		auditArg(r, "version", strconv.FormatUint(b.Version, 10))
	}
}

// auditWriter notes the status of the answer and the start of an error's
// body, for the record.
type auditWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   []byte
}

// maxAuditBody bounds what is kept of an error answer.
const maxAuditBody = 4096

func (w *auditWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *auditWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 300 && len(w.body) < maxAuditBody {
		w.body = append(w.body, b[:min(len(b), maxAuditBody-len(w.body))]...)
	}
	return w.ResponseWriter.Write(b)
}

func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outcome is "ok" for a success; else the admin error's code (or the
// status in words) and its message.
func (w *auditWriter) outcome() (code, msg string) {
	if w.status < 300 {
		return "ok", ""
	}
	var ae AdminError
	if json.Unmarshal(w.body, &ae) == nil && ae.Code != "" {
		return ae.Code, ae.Error
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(w.status)), " ", "_"), strings.TrimSpace(string(w.body))
}
