package metrics

import (
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/problem"
)

func newVecs() (*prometheus.Registry, *prometheus.CounterVec, *prometheus.HistogramVec) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_requests_total", Help: "h"}, []string{"direction", "service", "outcome"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "t_request_duration_seconds", Help: "h", Buckets: DurationBuckets}, []string{"direction", "service"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(total, dur)
	return reg, total, dur
}

func gather(t *testing.T, g prometheus.Gatherer) Families {
	t.Helper()
	f, err := Gather(g)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRequests(t *testing.T) {
	reg, total, dur := newVecs()
	out := NewRequests(total, dur, "out")
	in := NewRequests(total, dur, "in")
	svc := ident.MustService("MA/GOV/ETATCIVIL/civil-status")

	if first := out.For(svc); out.For(svc) != first {
		t.Error("For returns a new recorder for a service it has seen")
	}
	for range 3 {
		out.For(svc).Done(OK, 2*time.Millisecond)
	}
	out.For(svc).Done(string(problem.RateLimited), time.Microsecond)
	out.For(ident.Service{}).Done(string(problem.Unauthenticated), time.Microsecond)
	in.For(svc).Done(Canceled, time.Second)
	in.For(svc).Done("made_up_by_a_peer", time.Second)

	f := gather(t, reg)
	const name = "MA/GOV/ETATCIVIL/civil-status"
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"direction", "out", "service", name, "outcome", "ok"}, 3},
		{[]string{"direction", "out", "service", name, "outcome", "rate_limited"}, 1},
		{[]string{"direction", "out", "service", "other", "outcome", "unauthenticated"}, 1},
		{[]string{"direction", "in", "service", name, "outcome", "canceled"}, 1},
		{[]string{"direction", "in", "service", name, "outcome", "internal"}, 1},
	} {
		if got, ok := f.Value("t_requests_total", c.labels...); !ok || got != c.want {
			t.Errorf("t_requests_total%v = %v (present %v), want %v", c.labels, got, ok, c.want)
		}
	}
	if n := f.Series("t_requests_total"); n != 5 {
		t.Errorf("%d request series, want 5 (only outcomes that happened)", n)
	}
	if got, _ := f.Value("t_request_duration_seconds", "direction", "out", "service", name); got != 4 {
		t.Errorf("out histogram counts %v requests, want 4", got)
	}
	if got, _ := f.Value("t_request_duration_seconds", "direction", "in", "service", name); got != 2 {
		t.Errorf("in histogram counts %v requests, want 2", got)
	}
}

// TestRequestsConcurrent records from many goroutines at once, new
// services among them; run with -race.
func TestRequestsConcurrent(t *testing.T) {
	reg, total, dur := newVecs()
	r := NewRequests(total, dur, "out")
	svcs := []ident.Service{ident.MustService("MA/GOV/A/x"), ident.MustService("MA/GOV/B/y"), ident.MustService("MA/GOV/C/z")}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				r.For(svcs[(g+i)%len(svcs)]).Done(OK, time.Millisecond)
			}
		})
	}
	wg.Wait()
	f := gather(t, reg)
	var sum float64
	for _, s := range svcs {
		v, _ := f.Value("t_requests_total", "direction", "out", "service", s.String(), "outcome", "ok")
		sum += v
	}
	if sum != 8*300 {
		t.Errorf("counted %v requests, want %d", sum, 8*300)
	}
}

func TestOutcomes(t *testing.T) {
	got := Outcomes()
	for _, c := range problem.Codes() {
		if !slices.Contains(got, string(c)) {
			t.Errorf("outcome %s missing", c)
		}
	}
	if !slices.Contains(got, OK) || !slices.Contains(got, Canceled) || len(got) != len(problem.Codes())+2 {
		t.Errorf("Outcomes() = %v", got)
	}
}

func TestDurationBuckets(t *testing.T) {
	b := DurationBuckets
	if !slices.IsSorted(b) || b[0] != 0.001 || b[len(b)-1] != 60 {
		t.Errorf("buckets %v: want sorted, from 1 ms to 60 s", b)
	}
}

// TestNames lists a labelled counter nobody has used yet, which a gather
// would not show.
func TestNames(t *testing.T) {
	reg, _, _ := newVecs()
	reg.MustRegister(BuildInfo("t_build_info", "h", "1.2.3"))
	got := Names(reg)
	want := []string{"t_build_info", "t_request_duration_seconds", "t_requests_total"}
	if !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	f := gather(t, reg)
	if v, ok := f.Value("t_build_info", "version", "1.2.3"); !ok || v != 1 {
		t.Errorf("t_build_info{version=1.2.3} = %v, %v", v, ok)
	}
}

func TestDocumented(t *testing.T) {
	page := []byte("# Metrics\n\n| metric | type |\n|---|---|\n| `a_total` | counter |\n| `go_*` | various |\nText with `b_total` in it.\n| not a row `c`\n")
	doc := Documented(page)
	if want := []string{"a_total", "go_*"}; !slices.Equal(doc, want) {
		t.Fatalf("Documented = %q, want %q", doc, want)
	}
	got := Undocumented([]string{"a_total", "b_total", "go_goroutines", "gopher"}, doc)
	if want := []string{"b_total", "gopher"}; !slices.Equal(got, want) {
		t.Errorf("Undocumented = %q, want %q", got, want)
	}
}

// TestHandlerRoundTrip serves a registry and reads it back as the lab does.
func TestHandlerRoundTrip(t *testing.T) {
	reg, total, dur := newVecs()
	NewRequests(total, dur, "in").For(ident.Service{}).Done(string(problem.BadRequest), time.Millisecond)
	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	f, err := ParseText(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.Value("t_requests_total", "direction", "in", "service", "other", "outcome", "bad_request"); !ok || v != 1 {
		t.Errorf("bad_request = %v, %v", v, ok)
	}
	if _, ok := f["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the runtime collectors are not served")
	}
	if _, err := ParseText(strings.NewReader("not { metrics")); err == nil {
		t.Error("ParseText accepted garbage")
	}
}

// BenchmarkRequestsDone is the cost the request path pays per request.
func BenchmarkRequestsDone(b *testing.B) {
	_, total, dur := newVecs()
	r := NewRequests(total, dur, "out")
	svc := ident.MustService("MA/GOV/ETATCIVIL/civil-status")
	r.For(svc).Done(OK, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.For(svc).Done(OK, 3*time.Millisecond)
		}
	})
}
