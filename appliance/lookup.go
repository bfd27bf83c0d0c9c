package appliance

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// maxLookupAnswer bounds the answer a console lookup holds in memory: a
// record, not a file. A larger answer is refused rather than cut.
const maxLookupAnswer = 1 << 20

// lookup makes a clerk's once-only lookup: the service must be in the
// catalog of the clerk's role, the inputs must fit its form and the
// purpose must be one its rules grant; then the request goes through the
// gateway like any local system's, as consumer system who.System, with
// every check of the policy. Nothing of the answer touches the disk.
func (a *Appliance) lookup(ctx context.Context, who console.WhoAmI, req console.LookupRequest) (*console.LookupResult, *problem.Problem) {
	p := a.policy.Load()
	if p == nil {
		return nil, problem.New(problem.NoPolicy, a.noPolicyDetail())
	}
	services := catalog(p, a.id.Member, who.Role)
	i := slices.IndexFunc(services, func(s console.Service) bool { return s.ID == req.Service })
	if i < 0 {
		return nil, problem.New(problem.NotAllowed, fmt.Sprintf("The role %s may not look up %s in the console.", who.Role, req.Service))
	}
	svc := services[i]
	j := slices.IndexFunc(svc.Operations, func(o console.Operation) bool { return o.Path == req.Path })
	if j < 0 {
		return nil, problem.New(problem.BadRequest, fmt.Sprintf("%s offers no lookup %s.", req.Service, req.Path))
	}
	op := svc.Operations[j]
	path, query, err := op.Fill(req.Params)
	if err != nil {
		return nil, problem.New(problem.BadRequest, err.Error())
	}
	if len(svc.Purposes) > 0 && !slices.Contains(svc.Purposes, req.Purpose) {
		return nil, problem.New(problem.NotAllowed, fmt.Sprintf("A lookup in %s must say its purpose: one of %s.", req.Service, strings.Join(svc.Purposes, ", ")))
	}
	target := "/" + req.Service + path
	if query != "" {
		target += "?" + query
	}
	r, err := http.NewRequestWithContext(context.WithValue(ctx, consoleSystem{}, who.System), http.MethodGet, target, nil)
	if err != nil {
		return nil, problem.New(problem.BadRequest, err.Error())
	}
	if len(svc.Purposes) > 0 {
		r.Header.Set("Bab-Purpose", req.Purpose)
	}
	// The gateway checks the subject against the policy, as for any call.
	if subject := cmp.Or(req.Subject, op.Subject(req.Params)); subject != "" {
		r.Header.Set("Bab-Subject", subject)
	}
	start := time.Now()
	w := &memoryWriter{header: http.Header{}}
	if broke := serveInMemory(a.GatewayHandler(), w, r); broke {
		return nil, problem.New(problem.BadGateway, "The answer broke off on the way.")
	}
	return lookupResult(w, svc, start)
}

// lookupResult turns what the gateway wrote into the console's result, or
// the problem it answered with.
func lookupResult(w *memoryWriter, svc console.Service, start time.Time) (*console.LookupResult, *problem.Problem) {
	if w.tooLarge {
		return nil, problem.New(problem.BadGateway, fmt.Sprintf("The answer is larger than the %d bytes a console shows.", maxLookupAnswer))
	}
	ct := w.header.Get("Content-Type")
	if ct == "application/problem+json" {
		var p problem.Problem
		if err := json.Unmarshal(w.body.Bytes(), &p); err != nil {
			return nil, problem.New(problem.Internal, "The gateway's problem could not be read.")
		}
		return nil, &p
	}
	res := &console.LookupResult{RequestID: w.header.Get("Bab-Request-Id"), Service: svc.ID, Provider: svc.Provider,
		At: start, Duration: time.Since(start), Status: w.status, ContentType: ct}
	if strings.HasPrefix(ct, "application/json") && json.Valid(w.body.Bytes()) {
		res.Body = bytes.Clone(w.body.Bytes())
	} else {
		res.Text = w.body.String()
	}
	return res, nil
}

// serveInMemory runs h; it reports whether the handler cut the answer off
// (the gateway does so by aborting, as net/http's handlers do).
func serveInMemory(h http.Handler, w *memoryWriter, r *http.Request) (broke bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			broke = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// memoryWriter keeps an answer in memory, up to maxLookupAnswer bytes.
type memoryWriter struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	tooLarge bool
}

func (m *memoryWriter) Header() http.Header { return m.header }

func (m *memoryWriter) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}

func (m *memoryWriter) Write(b []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	if m.body.Len()+len(b) > maxLookupAnswer {
		m.tooLarge = true
		return 0, fmt.Errorf("answer larger than %d bytes", maxLookupAnswer)
	}
	return m.body.Write(b)
}
