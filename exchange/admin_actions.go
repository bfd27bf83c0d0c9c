package exchange

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/babgate/bab/policy"
)

// The admin API's state-changing calls other than tokens: each reads its
// arguments, notes the essential ones for the audit record, acts, and
// answers.

// maxBundle bounds a signed policy bundle sent to the admin API.
const maxBundle = 16 << 20

// servePolicyPush answers POST /v1/policy: publish a signed bundle to the
// whole fleet (?whole=true: never as a delta), or to a stage first
// (?stage=member:M|appliance:A|percent:N).
func (x *Exchange) servePolicyPush(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBundle+1))
	if err != nil {
		adminErr(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	auditVersion(r, body)
	var res *PushResult
	if st := r.URL.Query().Get("stage"); st != "" {
		stage, serr := ParseStage(st)
		if serr != nil {
			adminErr(w, http.StatusBadRequest, "bad_stage", serr.Error())
			return
		}
		res, err = x.Stage(body, stage)
	} else if r.URL.Query().Get("whole") == "true" {
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
}

// servePromote answers POST /v1/rollout/promote: the staged bundle goes
// to the whole fleet.
func (x *Exchange) servePromote(w http.ResponseWriter, r *http.Request) {
	res, err := x.Promote()
	if err != nil {
		adminErr(w, http.StatusUnprocessableEntity, "promote_refused", err.Error())
		return
	}
	auditArg(r, "version", strconv.FormatUint(res.Version, 10))
	writeJSON(w, http.StatusOK, res)
}

// serveAbort answers POST /v1/rollout/abort: a rollback bundle, above the
// staged version, for the whole fleet.
func (x *Exchange) serveAbort(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBundle+1))
	if err != nil {
		adminErr(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	auditVersion(r, body)
	res, err := x.Abort(body)
	if err != nil {
		adminErr(w, http.StatusUnprocessableEntity, "abort_refused", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// serveApplianceAction answers POST /v1/revoke/{id} and
// /v1/rebaseline/{id} with act.
func (x *Exchange) serveApplianceAction(act func(id string) (*ApplianceDetail, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		auditArg(r, "appliance", id)
		d, err := act(id)
		if err != nil {
			applianceErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	}
}

// serveAudit answers GET /v1/audit?limit=N: the newest audit records,
// newest first (100 by default, at most 10000).
func (x *Exchange) serveAudit(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	recs, err := x.store.Audit(limit)
	if err != nil {
		adminErr(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if recs == nil {
		recs = []AuditRecord{}
	}
	writeJSON(w, http.StatusOK, recs)
}
