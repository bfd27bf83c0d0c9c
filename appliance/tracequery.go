package appliance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// serveTraceQuery is GET /v1/trace/query on the control socket (bab trace
// query): one page of this office's member's trace records, asked of the
// exchange over a connected tunnel. Parameters: since and until (RFC
// 3339), service, from (the page's start) and limit.
func (a *Appliance) serveTraceQuery(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := tracelog.TraceQuery{Service: v.Get("service")}
	var err error
	for key, into := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if s := v.Get(key); s != "" {
			if *into, err = time.Parse(time.RFC3339, s); err != nil {
				problem.Write(w, problem.New(problem.BadRequest, fmt.Sprintf("%s %q is not an RFC 3339 time.", key, s)), 0)
				return
			}
		}
	}
	if s := v.Get("from"); s != "" {
		if q.From, err = strconv.ParseInt(s, 10, 64); err != nil || q.From < 0 {
			problem.Write(w, problem.New(problem.BadRequest, fmt.Sprintf("from %q is not a record number.", s)), 0)
			return
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > tracelog.MaxTracePage {
			problem.Write(w, problem.New(problem.BadRequest, fmt.Sprintf("limit %q is not 1 to %d.", s, tracelog.MaxTracePage)), 0)
			return
		}
	}
	ans, p := a.traceQuery(r.Context(), q)
	if p != nil {
		problem.Write(w, p, 0)
		return
	}
	writeJSON(w, ans)
}

// traceQuery asks the exchange on the first connected tunnel.
func (a *Appliance) traceQuery(ctx context.Context, q tracelog.TraceQuery) (*tracelog.TraceRecords, *problem.Problem) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, t := range a.tunnels {
		if !t.Connected() {
			continue
		}
		ans, err := t.TraceQuery(ctx, q)
		var we *wire.Error
		switch {
		case err == nil:
			return ans, nil
		case errors.As(err, &we):
			p := problem.New(problem.Code(we.Code), we.Detail)
			p.Hop = we.Hop
			return nil, p
		default:
			return nil, problem.New(problem.ExchangeUnreachable, err.Error())
		}
	}
	return nil, problem.New(problem.ExchangeUnreachable, "No tunnel to the exchange is up at the moment.")
}
