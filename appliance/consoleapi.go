package appliance

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// consoleCaller says who calls the console API, from what the listener
// that accepted the connection knows (the kernel's word on the socket, the
// paired console's certificate on HTTPS), or why the call is refused.
type consoleCaller func(r *http.Request) (console.WhoAmI, *problem.Problem)

// consoleHandler serves the console API (package console) to callers that
// who identifies. It is the same on the socket and on HTTPS.
func (a *Appliance) consoleHandler(who consoleCaller) http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, officeIT bool, f func(http.ResponseWriter, *http.Request, console.WhoAmI)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c, p := who(r)
			if p == nil && officeIT && c.Role != console.RoleOfficeIT {
				p = problem.New(problem.NotAllowed, "Only office IT may do this.")
			}
			if p != nil {
				problem.Write(w, p, 0)
				return
			}
			f(w, r, c)
		})
	}
	handle("GET "+console.PathWhoAmI, false, func(w http.ResponseWriter, _ *http.Request, c console.WhoAmI) { writeJSON(w, c) })
	handle("GET "+console.PathStatus, false, func(w http.ResponseWriter, _ *http.Request, _ console.WhoAmI) { writeJSON(w, a.consoleStatus()) })
	handle("GET "+console.PathCatalog, false, func(w http.ResponseWriter, _ *http.Request, c console.WhoAmI) {
		var out []console.Service
		if p := a.policy.Load(); p != nil {
			out = catalog(p, a.id.Member, c.Role)
		}
		writeJSON(w, out)
	})
	handle("POST "+console.PathLookup, false, a.serveLookup)
	handle("GET "+console.PathActivity, false, func(w http.ResponseWriter, r *http.Request, _ console.WhoAmI) {
		q := r.URL.Query()
		dir, outcome, svc := q.Get("direction"), q.Get("outcome"), q.Get("service")
		writeJSON(w, a.activity.list(func(x *console.Activity) bool {
			return (dir == "" || x.Direction == dir) && (outcome == "" || x.Outcome == outcome) && (svc == "" || x.Service == svc)
		}))
	})
	handle("GET "+console.PathOffice, true, func(w http.ResponseWriter, _ *http.Request, _ console.WhoAmI) { writeJSON(w, a.officeView()) })
	handle("POST "+console.PathRevoke, true, func(w http.ResponseWriter, r *http.Request, c console.WhoAmI) {
		var req console.RevokeRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil {
			problem.Write(w, problem.New(problem.BadRequest, "The revocation is not valid JSON: "+err.Error()), 0)
			return
		}
		if err := a.revokeConsole(req.Name); err != nil {
			problem.Write(w, problem.New(problem.BadRequest, err.Error()), 0)
			return
		}
		a.log.Info("console revoked from a console", "subsys", "console", "by", c.System)
		writeJSON(w, map[string]string{"revoked": req.Name})
	})
	return mux
}

func (a *Appliance) serveLookup(w http.ResponseWriter, r *http.Request, c console.WhoAmI) {
	var req console.LookupRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		problem.Write(w, problem.New(problem.BadRequest, "The lookup request is not valid JSON: "+err.Error()), 0)
		return
	}
	res, p := a.lookup(r.Context(), c, req)
	if p != nil {
		problem.Write(w, p, 0)
		return
	}
	writeJSON(w, res)
}

// consoleStatus is the office's connection as the console's home shows it.
func (a *Appliance) consoleStatus() console.Status {
	st := a.Status()
	out := console.Status{Revoked: a.revoked(), Quarantine: st.Quarantine, PolicyVersion: st.Policy.Version,
		PolicyExpires: st.Policy.Expires, PolicyExpired: st.Policy.Expired, PolicyNote: st.Policy.Note,
		PolicyProblem: st.Policy.Problem, Pending: st.Policy.Pending || st.Policy.OtherKey != "", CheckedAt: time.Now()}
	for _, t := range st.Tunnels {
		switch {
		case t.Connected && !out.Connected:
			out.Connected, out.Since, out.LastError = true, t.Since, ""
			out.Attested = a.tpm == nil || t.Checked
		case !t.Connected && !out.Connected && t.LastErrorAt.After(out.Since):
			out.Since, out.LastError = t.LastErrorAt, t.LastError
		}
	}
	return out
}

// officeView is what office IT sees of the appliance in the console: the
// checks the running appliance can make of itself, with their fixes.
func (a *Appliance) officeView() console.Office {
	st := a.Status()
	o := console.Office{Appliance: st.Appliance, AttestedAt: st.AttestedAt, Quarantine: st.Quarantine, CertExpiry: st.Certificate.NotAfter}
	cs := a.consoleStatus()
	o.Attested = cs.Attested
	for _, t := range st.Tunnels {
		o.Tunnels = append(o.Tunnels, console.Tunnel{Addr: t.Addr, Connected: t.Connected, Since: t.Since, LastError: t.LastError, LastErrorAt: t.LastErrorAt,
			Transport: t.Transport, TransportReason: t.TransportReason})
	}
	o.Findings = selfChecks(st, cs, time.Now())
	o.Consoles = a.pairedConsoles()
	return o
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
