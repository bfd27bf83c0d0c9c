package exchange

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
)

// The admin socket's subject reports and subject keys. A report names a
// person's requests, so it is for ops only, and audited like an action
// (it is a POST, whose body keeps the identifier out of the URL, of the
// audit log and of every log: the audit record holds the scheme and the
// subject's keyed hash).

// PathSubjectReport is where ops ask for a subject report.
const PathSubjectReport = "/v1/trace/subject"

// SubjectRequest asks which requests were about a subject.
type SubjectRequest struct {
	Subject string `json:"subject"` // SCHEME:ID
	// IncludeConfidential shows the records that confidential rules still
	// hold back.
	IncludeConfidential bool `json:"include_confidential,omitempty"`
}

// SubjectReport answers "who consulted my data": every request the trace
// log keeps about the subject, but those held back.
type SubjectReport struct {
	Scheme  string         `json:"scheme"`
	At      time.Time      `json:"at"`
	Entries []SubjectEntry `json:"entries"`
	// HeldBack counts the records confidential rules hold back from the
	// report until HeldUntil at the latest (NextRelease at the earliest);
	// they are in Entries, marked, with IncludeConfidential.
	HeldBack    int       `json:"held_back"`
	NextRelease time.Time `json:"next_release,omitzero"`
	HeldUntil   time.Time `json:"held_until,omitzero"`
	// Unsearchable are the subject keys whose records the report cannot
	// find: lost with the subject key file. (Keys destroyed after their
	// last record was pruned hide nothing.)
	Unsearchable []store.SubjectKey `json:"unsearchable,omitempty"`
	// Retention is how far back the log goes.
	Retention time.Duration `json:"retention_ns"`
}

// SubjectEntry is one request about the subject, in words a citizen
// reads: which administration, which service, when, why, and the outcome.
type SubjectEntry struct {
	At             time.Time `json:"at"`
	Member         string    `json:"member"`                // the consumer's administration
	MemberName     string    `json:"member_name,omitempty"` // as the policy in force names it
	Consumer       string    `json:"consumer"`              // its appliance
	ConsumerSystem string    `json:"consumer_system,omitempty"`
	Service        string    `json:"service"`
	Method         string    `json:"method"`
	Purpose        string    `json:"purpose,omitempty"`
	Outcome        string    `json:"outcome"`
	Status         int       `json:"status,omitempty"`
	RequestID      string    `json:"request_id"`
	Record         int64     `json:"record"` // its index in the log, for a receipt
	// ConfidentialUntil is set on a record a confidential rule still holds
	// back (shown only with IncludeConfidential).
	ConfidentialUntil time.Time `json:"confidential_until,omitzero"`
}

// subjectHandlers serve the subject reports and keys on the admin socket.
func (x *Exchange) subjectHandlers(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathSubjectReport, x.serveSubjectReport)
	mux.HandleFunc("POST /v1/trace/subject-key/rotate", func(w http.ResponseWriter, r *http.Request) {
		id, err := x.subjects.rotate(time.Now())
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		auditArg(r, "subject_key", strconv.FormatUint(uint64(id), 10))
		writeJSON(w, http.StatusOK, map[string]uint32{"id": id})
	})
	mux.HandleFunc("GET /v1/trace/subject-keys", func(w http.ResponseWriter, r *http.Request) {
		keys, err := x.store.SubjectKeys()
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		for i := range keys {
			keys[i].Sealed = nil // sealed, but still not for the socket
		}
		writeJSON(w, http.StatusOK, keys)
	})
}

func (x *Exchange) serveSubjectReport(w http.ResponseWriter, r *http.Request) {
	var req SubjectRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		adminErr(w, http.StatusBadRequest, "bad_request", "the request is not a subject report's JSON")
		return
	}
	s, err := ident.ParseSubject(strings.TrimSpace(req.Subject))
	if err != nil {
		adminErr(w, http.StatusBadRequest, "bad_subject", err.Error()) // names no identifier
		return
	}
	hashes := x.subjects.hashes(s.String())
	kid, h := x.subjects.hash(s.String())
	auditArg(r, "scheme", s.Scheme)
	auditArg(r, "subject_hash", strconv.FormatUint(uint64(kid), 10)+":"+h.String())
	auditArg(r, "include_confidential", strconv.FormatBool(req.IncludeConfidential))
	recs, err := x.store.TraceBySubject(hashes)
	if err != nil {
		adminErr(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	now := time.Now()
	rep := SubjectReport{Scheme: s.Scheme, At: now.UTC(), Entries: []SubjectEntry{}, Retention: x.cfg.TraceRetention}
	names := x.memberNames()
	for _, e := range recs {
		held := now.Before(e.ConfidentialUntil)
		if held {
			rep.HeldBack++
			if rep.NextRelease.IsZero() || e.ConfidentialUntil.Before(rep.NextRelease) {
				rep.NextRelease = e.ConfidentialUntil
			}
			if e.ConfidentialUntil.After(rep.HeldUntil) {
				rep.HeldUntil = e.ConfidentialUntil
			}
			if !req.IncludeConfidential {
				continue
			}
		}
		m := memberPart(e.Consumer)
		se := SubjectEntry{At: e.At, Member: m, MemberName: names[m], Consumer: e.Consumer, ConsumerSystem: e.ConsumerSystem,
			Service: e.Service, Method: e.Method, Purpose: e.Purpose, Outcome: e.Outcome, Status: e.Status, RequestID: e.ID, Record: e.Index}
		if held {
			se.ConfidentialUntil = e.ConfidentialUntil
		}
		rep.Entries = append(rep.Entries, se)
	}
	keys, err := x.store.SubjectKeys()
	if err != nil {
		adminErr(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	for _, k := range keys {
		if !k.Lost.IsZero() {
			k.Sealed = nil
			rep.Unsearchable = append(rep.Unsearchable, k)
		}
	}
	auditArg(r, "records", strconv.Itoa(len(rep.Entries)))
	auditArg(r, "held_back", strconv.Itoa(rep.HeldBack))
	writeJSON(w, http.StatusOK, rep)
}

// memberNames are the members' names in the policy in force.
func (x *Exchange) memberNames() map[string]string {
	out := map[string]string{}
	if p := x.policy.Load(); p != nil {
		if b := p.Bundle(); b != nil {
			for _, m := range b.Members {
				out[m.ID.String()] = m.Name
			}
		}
	}
	return out
}

// memberPart is the member of an appliance identifier.
func memberPart(appliance string) string {
	m, _, _ := strings.Cut(appliance, ":")
	return m
}
