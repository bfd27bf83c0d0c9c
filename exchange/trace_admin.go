package exchange

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/tracelog"
)

// TraceKey is the trace log's public side, as GET /v1/trace/key gives it.
type TraceKey struct {
	Origin string `json:"origin"`
	Key    string `json:"key"` // the verifier key, note format: ORIGIN+HASH+KEY
}

// traceHandlers serve the trace on the admin socket; all of them only
// read, so the read-only group may use them.
func (x *Exchange) traceHandlers(mux *http.ServeMux) {
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
	mux.HandleFunc("GET /v1/trace/key", func(w http.ResponseWriter, r *http.Request) {
		_, vkey, err := x.store.TraceLogKey()
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, TraceKey{Origin: x.trace.signer.Name(), Key: vkey})
	})
	mux.HandleFunc("GET /v1/trace/verify", func(w http.ResponseWriter, r *http.Request) {
		var rep *store.TraceReport
		var err error
		if k := r.URL.Query().Get("log_key"); k != "" {
			v, verr := tracelog.NewVerifier(k)
			if verr != nil {
				adminErr(w, http.StatusBadRequest, "bad_key", verr.Error())
				return
			}
			rep, err = x.store.VerifyTrace(v)
		} else {
			rep, err = x.store.VerifyTrace(nil)
		}
		if err != nil {
			adminErr(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("GET /v1/trace/receipt", x.serveReceipt)
	mux.HandleFunc("GET /v1/trace/query", x.serveTraceQuery)
	x.subjectHandlers(mux)
}

// serveReceipt answers a receipt: a C2SP tlog-proof, or, when the
// appliances' evidence of the request is logged, a receipt that carries it
// too. A record that no checkpoint covers yet gets one within
// trace_checkpoint_every: the answer waits for it, and for the evidence of
// a request that just ended.
func (x *Exchange) serveReceipt(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	index := int64(-1)
	if s := q.Get("index"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			adminErr(w, http.StatusBadRequest, "bad_index", "index "+strconv.Quote(s)+": give a record number")
			return
		}
		index = n
	}
	// A record is on disk within a flush (200 ms) of its request's end,
	// and under a checkpoint within trace_checkpoint_every.
	start := time.Now()
	for {
		rc, err := x.store.TraceReceipt(q.Get("id"), index)
		waited := time.Since(start)
		// The appliances' batches of a request that just ended are a
		// second or two behind its record: a receipt asked for at once
		// waits for them, and for a checkpoint over them.
		evidenceLate := err == nil && evidenceDue(rc, x.cfg.TraceCheckpointEvery) && waited < x.cfg.TraceCheckpointEvery+evidenceWait
		switch {
		case err == nil && !evidenceLate:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(rc.Marshal())
			return
		case evidenceLate, errors.Is(err, store.ErrNotCheckpointed) && waited < x.cfg.TraceCheckpointEvery+2*time.Second,
			errors.Is(err, store.ErrTraceNotFound) && index < 0 && waited < time.Second:
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		status, code := http.StatusInternalServerError, "internal"
		switch {
		case errors.Is(err, store.ErrTracePruned):
			status, code = http.StatusGone, "pruned"
		case errors.Is(err, store.ErrTraceNotFound):
			status, code = http.StatusNotFound, "not_found"
		case errors.Is(err, store.ErrTraceAmbiguous):
			status, code = http.StatusConflict, "ambiguous"
		case errors.Is(err, store.ErrNotCheckpointed):
			status, code = http.StatusServiceUnavailable, "not_checkpointed"
		}
		adminErr(w, status, code, err.Error())
		return
	}
}

// evidenceWait is how long after its request a record's evidence may
// still be on its way: an appliance signs a batch every second, and the
// exchange writes every fifth of a second.
const evidenceWait = 3 * time.Second

// evidenceDue reports whether a receipt lacks evidence that should come
// soon: its request ended less than evidenceWait ago (and a checkpoint
// interval, every, for a checkpoint over the batches), and the consumer's
// entry is missing, or the provider's for a request it answered.
func evidenceDue(rc tracelog.AnyReceipt, every time.Duration) bool {
	var rec tracelog.Record
	var sides [3]bool
	switch r := rc.(type) {
	case *tracelog.Receipt:
		if rec.UnmarshalBinary(r.Record) != nil {
			return false
		}
	case *tracelog.EvidenceReceipt:
		if rec.UnmarshalBinary(r.Record) != nil {
			return false
		}
		for _, b := range r.Batches {
			for _, e := range b.Entries {
				var en evidence.Entry
				if en.UnmarshalBinary(e.Entry) == nil {
					sides[en.Side] = true
				}
			}
		}
	}
	if time.Since(rec.At.Add(rec.Duration)) > evidenceWait+every {
		return false
	}
	return !sides[evidence.Consumer] || rec.Outcome == "ok" && !sides[evidence.Provider]
}
