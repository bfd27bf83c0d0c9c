package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/babgate/bab/internal/lab"
)

// What the bench reads of the daemons besides /proc: their Go runtime
// metrics (allocations, goroutines), and the machine's UDP counters.

// scrapeAll reads one runtime metric (a counter or a gauge) from each of
// the daemons' /metrics.
func scrapeAll(ctx context.Context, urls []string, name string) ([]float64, error) {
	v, err := scrapeMany(ctx, urls, name)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// scrapeMany reads several metrics from each daemon in one read of its
// /metrics: out[metric][daemon].
func scrapeMany(ctx context.Context, urls []string, names ...string) ([][]float64, error) {
	out := make([][]float64, len(names))
	for j := range names {
		out[j] = make([]float64, len(urls))
	}
	for i, u := range urls {
		f, err := lab.Scrape(ctx, u)
		if err != nil {
			return nil, err
		}
		for j, name := range names {
			v, ok := f.Value(name)
			if !ok {
				return nil, fmt.Errorf("%s/metrics has no %s", u, name)
			}
			out[j][i] = v
		}
	}
	return out, nil
}

// allocCounter sums the heap allocations (count and bytes) each daemon
// makes during windows of load, less what reading the counters costs.
type allocCounter struct {
	urls    []string
	scrape  [][]float64 // what one read of /metrics allocates: [count, bytes][daemon]
	before  [][]float64
	sum     [][]float64
	windows int
	err     error
}

var allocMetrics = []string{"go_memstats_mallocs_total", "go_memstats_alloc_bytes_total"}

// newAllocCounter measures what a read of /metrics allocates: two reads
// back to back at rest.
func newAllocCounter(ctx context.Context, urls []string) *allocCounter {
	a := &allocCounter{urls: urls, sum: [][]float64{make([]float64, len(urls)), make([]float64, len(urls))}}
	first, err := scrapeMany(ctx, urls, allocMetrics...)
	if err == nil {
		var second [][]float64
		if second, err = scrapeMany(ctx, urls, allocMetrics...); err == nil {
			a.scrape = diff(second, first)
		}
	}
	a.err = err
	return a
}

func diff(after, before [][]float64) [][]float64 {
	out := make([][]float64, len(after))
	for j := range after {
		out[j] = make([]float64, len(after[j]))
		for i := range after[j] {
			out[j][i] = after[j][i] - before[j][i]
		}
	}
	return out
}

func (a *allocCounter) start(ctx context.Context) {
	if a.err == nil {
		a.before, a.err = scrapeMany(ctx, a.urls, allocMetrics...)
	}
}

func (a *allocCounter) stop(ctx context.Context) {
	if a.err != nil {
		return
	}
	after, err := scrapeMany(ctx, a.urls, allocMetrics...)
	if err != nil {
		a.err = err
		return
	}
	d := diff(after, a.before)
	for j := range d {
		for i := range d[j] {
			a.sum[j][i] += d[j][i] - a.scrape[j][i]
		}
	}
	a.windows++
}

// perRequest is each daemon's allocations per request over the windows,
// as "COUNT (BYTES)".
func (a *allocCounter) perRequest(n int) []string {
	out := make([]string, len(a.urls))
	for i := range out {
		if a.err != nil || n == 0 || a.windows == 0 {
			out[i] = "-"
			continue
		}
		out[i] = fmt.Sprintf("%.0f (%.1f KB)", max(a.sum[0][i], 0)/float64(n), max(a.sum[1][i], 0)/float64(n)/1e3)
	}
	return out
}

// udpIn is the machine's count of UDP datagrams received: on loopback,
// every datagram sent. It counts whatever else runs on the machine too.
func udpIn() (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "InDatagrams" && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no Udp InDatagrams in /proc/net/snmp")
}
