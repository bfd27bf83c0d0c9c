package exchange

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// A member's own transactions, from the trace log: every request where
// one of its appliances was the consumer or the provider, never another
// member's. Appliances ask over their tunnel's control stream (bab trace
// query), for the member their certificate names; ops ask on the admin
// socket for any member (bab-exchange trace query --member).

// memberPage reads one page of a member's records.
func (x *Exchange) memberPage(member ident.Member, q tracelog.TraceQuery) (store.MemberPage, error) {
	return x.store.TraceByMember(store.MemberQuery{Member: member.String(), Since: q.Since, Until: q.Until, Service: q.Service,
		From: q.From, Limit: cmpLimit(q.Limit), Slack: x.cfg.RequestTimeoutMax + time.Minute})
}

func cmpLimit(n int) int {
	if n <= 0 || n > tracelog.MaxTracePage {
		return tracelog.MaxTracePage
	}
	return n
}

// answerTraceQuery answers an appliance's query in the background, one at
// a time per tunnel: a query that comes while one runs is refused.
func (x *Exchange) answerTraceQuery(s *session, q tracelog.TraceQuery) {
	if !s.querying.CompareAndSwap(false, true) {
		x.metrics.limited.WithLabelValues("trace_queries").Inc()
		x.sendTraceRecords(s, tracelog.TraceRecords{ID: q.ID, Error: &wire.Error{Code: string(problem.Overloaded), Hop: "exchange",
			Detail: "A trace query of this tunnel is still being answered; ask again once it is.", RetryAfter: wire.ToMillis(time.Second)}})
		return
	}
	go func() {
		defer s.querying.Store(false)
		x.sendTraceRecords(s, x.traceRecords(s, q))
	}()
}

func (x *Exchange) sendTraceRecords(s *session, ans tracelog.TraceRecords) {
	if err := s.send(wire.FrameTraceRecords, ans); err != nil {
		s.log.Warn("send trace records", "err", err)
	}
}

// traceRecords is the answer to an appliance's query: its member's
// records, if the appliance is in good standing.
func (x *Exchange) traceRecords(s *session, q tracelog.TraceQuery) tracelog.TraceRecords {
	refuse := func(code problem.Code, format string, args ...any) tracelog.TraceRecords {
		return tracelog.TraceRecords{ID: q.ID, Error: &wire.Error{Code: string(code), Hop: "exchange", Detail: fmt.Sprintf(format, args...)}}
	}
	member := s.id.Member
	if q.Member != "" && q.Member != member.String() {
		s.log.Warn("an appliance asked for another member's trace records; refused", "asked", q.Member)
		return refuse(problem.NotAllowed, "%s may see the trace records of its own member, %s, and no other's.", s.id, member)
	}
	p := x.policyFor(s)
	switch {
	case p == nil:
		return refuse(problem.NoPolicy, "The exchange has no policy yet.")
	case !p.HasAppliance(s.id):
		return refuse(problem.AppliancePending, "%s is not listed in policy v%d: central ops have not approved it yet.", s.id, p.Version())
	case otherKey(p, s) != "":
		return refuse(problem.ApplianceKeyMismatch, "Policy v%d binds %s to another key than the one it enrolled with.", p.Version(), s.id)
	case s.quarantined.Load():
		return refuse(problem.ApplianceQuarantined, "The exchange has this appliance in quarantine: its boot state is not the recorded one.")
	case !s.attested.Load():
		return refuse(problem.AttestationPending, "The exchange has not yet verified this appliance's boot state since it connected.")
	}
	page, err := x.memberPage(member, q)
	if err != nil {
		s.log.Error("reading a member's trace records failed", "err", err)
		return refuse(problem.Internal, "The exchange could not read its trace log.")
	}
	ans := tracelog.TraceRecords{ID: q.ID, Next: page.Next, Records: make([]tracelog.TraceRecord, 0, len(page.Records))}
	for _, e := range page.Records {
		// The subject's keyed hash is the exchange's, for subject reports.
		e.SubjectHash, e.SubjectKey = [32]byte{}, 0
		ans.Records = append(ans.Records, tracelog.TraceRecord{Index: e.Index, Record: e.TraceEntry})
	}
	return ans
}

// serveTraceQuery is ops' query of any member's records on the admin
// socket: GET /v1/trace/query?member=M&since=T&until=T&service=S&from=N&limit=N,
// times in RFC 3339.
func (x *Exchange) serveTraceQuery(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	member, err := ident.ParseMember(v.Get("member"))
	if err != nil {
		adminErr(w, http.StatusBadRequest, "bad_member", err.Error())
		return
	}
	q := tracelog.TraceQuery{Service: v.Get("service")}
	for _, t := range []struct {
		key  string
		into *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(t.key); s != "" {
			if *t.into, err = time.Parse(time.RFC3339, s); err != nil {
				adminErr(w, http.StatusBadRequest, "bad_time", fmt.Sprintf("%s %q: give an RFC 3339 time", t.key, s))
				return
			}
		}
	}
	if s := v.Get("from"); s != "" {
		if q.From, err = strconv.ParseInt(s, 10, 64); err != nil || q.From < 0 {
			adminErr(w, http.StatusBadRequest, "bad_number", fmt.Sprintf("from %q: give a record number", s))
			return
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			adminErr(w, http.StatusBadRequest, "bad_number", fmt.Sprintf("limit %q: give a number of records", s))
			return
		}
	}
	page, err := x.memberPage(member, q)
	if err != nil {
		adminErr(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, page)
}
