package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// lightResult is the comparison at one light concurrency: latency is
// what a user feels there, not the rate.
type lightResult struct {
	conc int
	d, t loadResult
	// udp is the datagrams per request through Bab, less the machine's
	// background (the rate seen during the direct rounds, which send
	// none); -1 when the counters could not be read.
	udp float64
}

// lightLoad runs the direct/through comparison at concurrency conc, in
// alternating rounds of per each.
func lightLoad(ctx context.Context, client *http.Client, direct, through func(context.Context) (*http.Request, error), conc int, per time.Duration, limit int64) lightResult {
	var dRes, tRes []loadResult
	var dUDP, tUDP int64
	udpOK := true
	count := func(run func() loadResult, sum *int64) loadResult {
		before, err1 := udpIn()
		r := run()
		after, err2 := udpIn()
		if err1 != nil || err2 != nil {
			udpOK = false
		}
		*sum += after - before
		return r
	}
	for r := 1; r <= rounds && ctx.Err() == nil; r++ {
		progress("light load, concurrency %d, round %d/%d: %s direct, %s through Bab", conc, r, rounds, per, per)
		dRes = append(dRes, count(func() loadResult { return load(ctx, client, direct, conc, per, limit) }, &dUDP))
		tRes = append(tRes, count(func() loadResult { return load(ctx, client, through, conc, per, limit) }, &tUDP))
	}
	res := lightResult{conc: conc, d: merge(dRes), t: merge(tRes), udp: -1}
	if n := len(res.t.lat) + res.t.nerr; udpOK && n > 0 && res.d.elapsed > 0 {
		background := float64(dUDP) / res.d.elapsed.Seconds() * res.t.elapsed.Seconds()
		res.udp = max(float64(tUDP)-background, 0) / float64(n)
	}
	return res
}

// lightLines prints the light-load comparison.
func lightLines(w io.Writer, rs []lightResult, per time.Duration) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "Light load: the same GET, %d alternating rounds of %s direct then %s through Bab at each concurrency;\n", rounds, fmtSec(per), fmtSec(per))
	fmt.Fprintf(w, "added = through - direct, what a user feels. UDP datagrams per request: the machine's count during\n")
	fmt.Fprintf(w, "the through rounds less its rate during the direct rounds (which send none), over the requests.\n")
	fmt.Fprintf(w, "  %-5s %9s %9s  %9s %9s %9s  %9s %9s %9s  %8s\n", "conc", "req/s", "req/s", "p50 (ms)", "p50 (ms)", "p50 (ms)", "p99 (ms)", "p99 (ms)", "p99 (ms)", "UDP")
	fmt.Fprintf(w, "  %-5s %9s %9s  %9s %9s %9s  %9s %9s %9s  %8s\n", "", "direct", "through", "direct", "through", "added", "direct", "through", "added", "per req")
	for _, r := range rs {
		udp := "-"
		if r.udp >= 0 {
			udp = fmt.Sprintf("%.1f", r.udp)
		}
		d50, t50, d99, t99 := pct(r.d.lat, 0.50), pct(r.t.lat, 0.50), pct(r.d.lat, 0.99), pct(r.t.lat, 0.99)
		fmt.Fprintf(w, "  %-5d %9.0f %9.0f  %9.3f %9.3f %+9.3f  %9.3f %9.3f %+9.3f  %8s\n", r.conc, r.d.rate(), r.t.rate(),
			ms(d50), ms(t50), ms(t50-d50), ms(d99), ms(t99), ms(t99-d99), udp)
		for _, x := range []loadResult{r.d, r.t} {
			if x.nerr > 0 {
				fmt.Fprintf(w, "  errors seen at concurrency %d: %s\n", r.conc, x.errSummary())
			}
		}
	}
	fmt.Fprintln(w)
}
