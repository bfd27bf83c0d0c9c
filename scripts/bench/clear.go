package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/babgate/bab/internal/lab"
)

// sealCost measures what end-to-end protection costs: the same small GETs
// through the lab and through a second lab whose binaries are built for
// measurement only (tag babnoseal: the same frames and lengths, neither
// encrypted nor authenticated), in alternating rounds, side by side. It
// returns the lines to print.
func sealCost(ctx context.Context, o options, tmp string, sealed *lab.Lab, client *http.Client) ([]string, error) {
	progress("building bab and bab-exchange without end-to-end protection (measurement only)…")
	bin := filepath.Join(tmp, "clear-bin")
	if err := lab.Build(bin, "babnoseal"); err != nil {
		return nil, err
	}
	progress("starting a second lab with them…")
	clear, err := lab.Start(ctx, lab.Options{Dir: filepath.Join(tmp, "clear-lab"), BinDir: bin, Lanes: o.lanes, Transport: o.transport})
	if err != nil {
		return nil, err
	}
	defer clear.Close()
	for _, a := range []*lab.Appliance{clear.Consumer, clear.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			return nil, err
		}
	}
	get := func(l *lab.Lab) func(context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) { return l.Request(ctx, "GET", "/citizens/42", nil) }
	}
	labs := []*lab.Lab{sealed, clear}
	for _, l := range labs {
		if w := load(ctx, client, get(l), o.concurrency, warmup, o.maxRequests); w.nerr > 0 {
			return nil, fmt.Errorf("warm-up: %d errors: %s", w.nerr, w.errSummary())
		}
	}
	per := o.duration / rounds
	res := make([][]loadResult, len(labs))
	for r := 1; r <= rounds; r++ {
		for i, l := range labs {
			progress("seal cost round %d/%d: %s through %s", r, rounds, per, []string{"sealed", "clear"}[i])
			res[i] = append(res[i], load(ctx, client, get(l), o.concurrency, per, o.maxRequests))
		}
	}
	s, c := merge(res[0]), merge(res[1])
	if s.nerr+c.nerr > 0 {
		return nil, fmt.Errorf("seal cost: %d and %d errors: %s %s", s.nerr, c.nerr, s.errSummary(), c.errSummary())
	}
	return []string{
		fmt.Sprintf("End-to-end protection's cost: the same GETs, %d alternating rounds of %s each, through Bab as shipped and through a build without it (tag babnoseal, measurement only).", rounds, fmtSec(per)),
		fmt.Sprintf("  %-26s %16s %16s", "", "sealed", "not sealed"),
		fmt.Sprintf("  %-26s %16.0f %16.0f", "rate (req/s)", s.rate(), c.rate()),
		fmt.Sprintf("  %-26s %16s %16s", "rate per round (req/s)", roundRates(res[0]), roundRates(res[1])),
		fmt.Sprintf("  %-26s %16.3f %16.3f", "p50 latency (ms)", ms(pct(s.lat, 0.5)), ms(pct(c.lat, 0.5))),
		fmt.Sprintf("  %-26s %16.3f %16.3f", "p99 latency (ms)", ms(pct(s.lat, 0.99)), ms(pct(c.lat, 0.99))),
		fmt.Sprintf("  ratio sealed/not sealed (req/s): %.2f", s.rate()/c.rate()),
	}, nil
}
