package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/problem"
)

// Outcomes of a request besides the problem codes.
const (
	// OK means Bab delivered the request and its answer, whatever the
	// provider's system answered.
	OK = "ok"
	// Canceled means the caller went away, or the stream was given up,
	// before the answer was complete: no problem was sent to anyone.
	Canceled = "canceled"
	// Other is the service label of a request that names no service of
	// the policy in force, so that made-up names cannot create series.
	Other = "other"
)

// outcomeIndex numbers the outcomes a request may have: ok, canceled and
// every problem code. Anything else is counted as internal, so that a
// peer's unknown code cannot create series either.
var outcomeIndex, outcomeNames = func() (map[string]int, []string) {
	names := []string{OK, Canceled}
	for _, c := range problem.Codes() {
		names = append(names, string(c))
	}
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	return idx, names
}()

// Outcomes lists every outcome label value a request can have.
func Outcomes() []string { return append([]string(nil), outcomeNames...) }

// Requests counts and times the requests on one path (an appliance's
// gateway or its provider side, or the exchange) by service and outcome.
// The labelled series are looked up once per service and outcome and kept,
// so that recording a request costs a map read and a few atomic updates.
type Requests struct {
	total    *prometheus.CounterVec   // labels: lead..., service, outcome
	duration *prometheus.HistogramVec // labels: lead..., service
	lead     []string

	mu       sync.Mutex // serialises adding a service
	services atomic.Pointer[map[ident.Service]*ServiceRequests]
}

// NewRequests records into total and duration, whose labels are lead's
// (values fixed for this path, such as a direction) followed by "service"
// and, for total, "outcome".
func NewRequests(total *prometheus.CounterVec, duration *prometheus.HistogramVec, lead ...string) *Requests {
	r := &Requests{total: total, duration: duration, lead: lead}
	r.services.Store(&map[ident.Service]*ServiceRequests{})
	return r
}

// For returns the recorder of svc's requests; the zero Service is Other.
// Callers pass only services of the policy in force. Series are made on
// first use, so that an idle appliance holds none.
func (r *Requests) For(svc ident.Service) *ServiceRequests {
	if s, ok := (*r.services.Load())[svc]; ok {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := *r.services.Load()
	if s, ok := cur[svc]; ok {
		return s
	}
	// Services are few and change with the policy only: copying the map on
	// each new one keeps every lookup free of locks.
	next := make(map[ident.Service]*ServiceRequests, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	label := Other
	if !svc.IsZero() {
		label = svc.String()
	}
	s := r.newService(label)
	next[svc] = s
	r.services.Store(&next)
	return s
}

func (r *Requests) newService(label string) *ServiceRequests {
	return &ServiceRequests{r: r, label: label,
		duration: r.duration.WithLabelValues(append(r.lead[:len(r.lead):len(r.lead)], label)...),
		counts:   make([]atomic.Pointer[prometheus.Counter], len(outcomeNames))}
}

// ServiceRequests records the requests of one service on one path.
type ServiceRequests struct {
	r        *Requests
	label    string
	duration prometheus.Observer
	counts   []atomic.Pointer[prometheus.Counter] // by outcome index, made on first use
}

// Done records one request that ended with outcome (OK, Canceled or a
// problem code) after d.
func (s *ServiceRequests) Done(outcome string, d time.Duration) {
	i, ok := outcomeIndex[outcome]
	if !ok {
		i = outcomeIndex[string(problem.Internal)]
	}
	c := s.counts[i].Load()
	if c == nil {
		// Two first requests may both get here; they get the same series.
		lv := append(s.r.lead[:len(s.r.lead):len(s.r.lead)], s.label, outcomeNames[i])
		counter := s.r.total.WithLabelValues(lv...)
		c = &counter
		s.counts[i].Store(c)
	}
	(*c).Inc()
	s.duration.Observe(d.Seconds())
}
