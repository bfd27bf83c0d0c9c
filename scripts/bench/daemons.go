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
	out := make([]float64, len(urls))
	for i, u := range urls {
		f, err := lab.Scrape(ctx, u)
		if err != nil {
			return nil, err
		}
		v, ok := f.Value(name)
		if !ok {
			return nil, fmt.Errorf("%s/metrics has no %s", u, name)
		}
		out[i] = v
	}
	return out, nil
}

// allocCounter sums the heap allocations each daemon makes during
// windows of load, less what reading the counter costs.
type allocCounter struct {
	urls    []string
	scrape  []float64 // allocations one read of /metrics makes, per daemon
	before  []float64
	sum     []float64
	windows int
	err     error
}

const mallocs = "go_memstats_mallocs_total"

// newAllocCounter measures what a read of /metrics allocates: two reads
// back to back at rest.
func newAllocCounter(ctx context.Context, urls []string) *allocCounter {
	a := &allocCounter{urls: urls, sum: make([]float64, len(urls))}
	first, err := scrapeAll(ctx, urls, mallocs)
	if err == nil {
		var second []float64
		if second, err = scrapeAll(ctx, urls, mallocs); err == nil {
			a.scrape = make([]float64, len(urls))
			for i := range urls {
				a.scrape[i] = second[i] - first[i]
			}
		}
	}
	a.err = err
	return a
}

func (a *allocCounter) start(ctx context.Context) {
	if a.err == nil {
		a.before, a.err = scrapeAll(ctx, a.urls, mallocs)
	}
}

func (a *allocCounter) stop(ctx context.Context) {
	if a.err != nil {
		return
	}
	after, err := scrapeAll(ctx, a.urls, mallocs)
	if err != nil {
		a.err = err
		return
	}
	for i := range a.urls {
		a.sum[i] += after[i] - a.before[i] - a.scrape[i]
	}
	a.windows++
}

// perRequest is each daemon's allocations per request over the windows.
func (a *allocCounter) perRequest(n int) []string {
	out := make([]string, len(a.urls))
	for i := range out {
		if a.err != nil || n == 0 || a.windows == 0 {
			out[i] = "-"
			continue
		}
		out[i] = fmt.Sprintf("%.0f", max(a.sum[i], 0)/float64(n))
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
