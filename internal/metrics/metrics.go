// Package metrics holds what both daemons share for the Prometheus metrics
// they serve on their admin address at /metrics: the handler, the latency
// buckets, the build and runtime collectors, the per-service request
// counters that stay cheap on the request path, reading metrics back (for
// tests and the lab), and the check that keeps docs/metrics.md in step
// with what is registered.
package metrics

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics of reg and of the process (Runtime) in the
// Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{reg, Runtime()}, promhttp.HandlerOpts{})
}

// DurationBuckets are the upper bounds, in seconds, of the request latency
// histograms: from 1 ms (a refusal decided locally) to 60 s (a slow
// backend or a large body), roughly ×2.5 apart.
var DurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// BuildInfo is a gauge that is always 1 and carries the software version
// as a label, the usual way to expose a build in Prometheus.
func BuildInfo(name, help, version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: prometheus.Labels{"version": version}})
	g.Set(1)
	return g
}

// runtimeRegistry is made once per process and served beside every
// registry of that process: a process that simulates many appliances
// pays for the Go runtime and process collectors once.
var runtimeRegistry = sync.OnceValue(func() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
})

// Runtime returns the registry of the Go runtime (go_*) and process
// (process_*) metrics, shared by the whole process.
func Runtime() *prometheus.Registry { return runtimeRegistry() }

// Describer is what a registry offers to list what it holds.
type Describer interface {
	Describe(chan<- *prometheus.Desc)
}

// Names lists, sorted and each once, the names of the metrics that ds
// describe, whether or not any series of them exists yet (a labelled
// counter has none until first used).
func Names(ds ...Describer) []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, d := range ds {
			d.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for desc := range ch {
		if name := fqName(desc); name != "" {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fqName reads a descriptor's name from its string form, the only place
// the client library shows it: Desc{fqName: "name", help: ...}.
func fqName(d *prometheus.Desc) string {
	_, rest, ok := strings.Cut(d.String(), "fqName: ")
	if !ok {
		return ""
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return ""
	}
	name, err := strconv.Unquote(q)
	if err != nil {
		return ""
	}
	return name
}

// Documented returns the metric names that the table rows of a metrics
// page list, each the first cell of a row in backquotes ("| `name` | ...").
// A name ending in "*" (`go_*`) stands for every name with that prefix.
func Documented(page []byte) []string {
	var out []string
	for _, line := range strings.Split(string(page), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		c := strings.TrimSpace(cells[1])
		if len(c) > 2 && c[0] == '`' && c[len(c)-1] == '`' {
			out = append(out, c[1:len(c)-1])
		}
	}
	return out
}

// Undocumented returns the names that no entry of documented covers.
func Undocumented(names, documented []string) []string {
	var out []string
	for _, n := range names {
		if !covered(n, documented) {
			out = append(out, n)
		}
	}
	return out
}

func covered(name string, documented []string) bool {
	for _, d := range documented {
		if prefix, ok := strings.CutSuffix(d, "*"); ok && strings.HasPrefix(name, prefix) || d == name {
			return true
		}
	}
	return false
}
