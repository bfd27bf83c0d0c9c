package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// variant is a second lab the shipped one is measured against, side by
// side: built with a tag, or with variables in its daemons' environment.
type variant struct {
	flag  string   // the bench's flag that asks for it
	what  string   // what the comparison says, for the report
	label string   // the second lab's column
	tag   string   // build tag, or ""
	env   []string // added to its daemons' environment
	// transport is its appliances' tunnels.transport, or "" for the
	// bench's -transport.
	transport string
}

var (
	// sealVariant measures what end-to-end protection costs: binaries
	// built for measurement only (tag babnoseal: the same frames and
	// lengths, neither encrypted nor authenticated).
	sealVariant = variant{flag: "seal-cost", what: "End-to-end protection's cost", label: "not sealed", tag: "babnoseal"}
	// gcVariant measures what the daemons' collector tuning (gctune)
	// saves: the same binaries with GOGC=100, which turns it off.
	gcVariant = variant{flag: "gc-cost", what: "The collector's tuning (internal/gctune)", label: "GOGC=100", env: []string{"GOGC=100"}}
	// tcpVariant measures the TCP fallback against the bench's transport:
	// the same binaries, with appliances that use TLS over TCP.
	tcpVariant = variant{flag: "tcp-side", what: "The TCP fallback", label: "TCP fallback", transport: "tcp"}
)

// compare runs the same small GETs through the shipped lab and through
// v's, in alternating rounds, and returns the lines to print: rates,
// latencies and each daemon's CPU per request.
func (v variant) compare(ctx context.Context, o options, tmp string, shipped *lab.Lab, client *http.Client) ([]string, error) {
	bin := shipped.Bin
	if v.tag != "" {
		progress("building bab and bab-exchange for %s…", v.label)
		bin = filepath.Join(tmp, v.flag+"-bin")
		if err := lab.Build(bin, v.tag); err != nil {
			return nil, err
		}
	}
	progress("starting a second lab: %s…", v.label)
	transport := o.transport
	if v.transport != "" {
		transport = v.transport
	}
	other, err := lab.Start(ctx, lab.Options{Dir: filepath.Join(tmp, v.flag+"-lab"), BinDir: bin, Lanes: o.lanes, Transport: transport, DaemonEnv: v.env})
	if err != nil {
		return nil, err
	}
	defer other.Close()
	for _, a := range []*lab.Appliance{other.Consumer, other.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			return nil, err
		}
	}
	get := func(l *lab.Lab) func(context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) { return l.Request(ctx, "GET", "/citizens/42", nil) }
	}
	labs := []*lab.Lab{shipped, other}
	for _, l := range labs {
		if w := load(ctx, client, get(l), o.concurrency, warmup, o.maxRequests); w.nerr > 0 {
			return nil, fmt.Errorf("warm-up: %d errors: %s", w.nerr, w.errSummary())
		}
	}
	per := o.duration / rounds
	res := make([][]loadResult, len(labs))
	cpu := [][]time.Duration{make([]time.Duration, 3), make([]time.Duration, 3)}
	for r := 1; r <= rounds; r++ {
		for i, l := range labs {
			progress("%s round %d/%d: %s through %s", v.flag, r, rounds, per, []string{"Bab as shipped", v.label}[i])
			before, err := daemonCPU(l)
			if err != nil {
				return nil, err
			}
			res[i] = append(res[i], load(ctx, client, get(l), o.concurrency, per, o.maxRequests))
			after, err := daemonCPU(l)
			if err != nil {
				return nil, err
			}
			addCPU(cpu[i], before, after)
		}
	}
	a, b := merge(res[0]), merge(res[1])
	if a.nerr+b.nerr > 0 {
		return nil, fmt.Errorf("%s: %d and %d errors: %s %s", v.flag, a.nerr, b.nerr, a.errSummary(), b.errSummary())
	}
	perReq := func(d time.Duration, r loadResult) float64 {
		return float64(d.Microseconds()) / float64(max(len(r.lat), 1))
	}
	lines := []string{
		fmt.Sprintf("%s: the same GETs, %d alternating rounds of %s each, through Bab as shipped and through a second lab (%s).", v.what, rounds, fmtSec(per), v.label),
		fmt.Sprintf("  %-30s %16s %16s", "", "shipped", v.label),
		fmt.Sprintf("  %-30s %16.0f %16.0f", "rate (req/s)", a.rate(), b.rate()),
		fmt.Sprintf("  %-30s %16s %16s", "rate per round (req/s)", roundRates(res[0]), roundRates(res[1])),
		fmt.Sprintf("  %-30s %16.3f %16.3f", "p50 latency (ms)", ms(pct(a.lat, 0.5)), ms(pct(b.lat, 0.5))),
		fmt.Sprintf("  %-30s %16.3f %16.3f", "p99 latency (ms)", ms(pct(a.lat, 0.99)), ms(pct(b.lat, 0.99))),
	}
	var sa, sb time.Duration
	for i, name := range []string{"consumer bab", "bab-exchange", "provider bab"} {
		lines = append(lines, fmt.Sprintf("  %-30s %16.0f %16.0f", "CPU per request, "+name+" (µs)", perReq(cpu[0][i], a), perReq(cpu[1][i], b)))
		sa, sb = sa+cpu[0][i], sb+cpu[1][i]
	}
	lines = append(lines,
		fmt.Sprintf("  %-30s %16.0f %16.0f", "CPU per request, per hop (µs)", perReq(sa, a)/3, perReq(sb, b)/3),
		fmt.Sprintf("  ratio shipped/%s: rate %.2f, CPU per request %.2f", v.label, a.rate()/b.rate(), perReq(sa, a)/perReq(sb, b)))
	return lines, nil
}

// daemonCPU reads the CPU time used so far by l's consumer, exchange and
// provider.
func daemonCPU(l *lab.Lab) ([]time.Duration, error) {
	out := make([]time.Duration, 3)
	for i, p := range []*lab.Proc{l.Consumer.Proc, l.Exchange.Proc, l.Provider.Proc} {
		d, err := p.CPUTime()
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
