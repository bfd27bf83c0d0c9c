// Command bench measures Bab against its budgets in one run on one
// machine, side by side: the request rate and latency of small JSON GETs
// straight to the sample backend and through the whole Bab path (consumer
// gateway → exchange → provider appliance → backend), a large body
// streamed up and down through Bab next to a bare quic-go stream with the
// tunnels' settings, the memory of the three daemons, and the size of the
// binaries. Run it from the source tree:
//
//	go run ./scripts/bench [-duration 10s] [-concurrency 32] [-light 1,4] [-stream 1GiB] [-cpuprofile-dir DIR [-lockprofiles]] [-seal-cost] [-bin DIR] [-transport quic]
//
// or, on a server without Go, build it once (go build ./scripts/bench)
// and run it with -bin DIR naming a directory that holds the bab and
// bab-exchange to measure; it then needs no source tree.
//
// Besides the rate at -concurrency it compares latency at the light
// concurrencies of -light, where the latency Bab adds is what a user
// feels, and reports each daemon's CPU time and heap allocations per
// request.
//
// It stops by itself and exits non-zero if any correctness check failed
// (a request that did not answer 200 with a body, a stream that arrived
// short or altered). Budgets that are missed are reported, not failed.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/transport"
)

const (
	rounds      = 3                // direct/through alternations
	warmup      = time.Second      // per target, not counted
	profileTime = 10 * time.Second // the extra profiled through round
	streamLimit = 10 * time.Minute // one stream may not take longer
	mb          = 1e6              // 1 MB = 10^6 bytes throughout
)

type options struct {
	duration    time.Duration
	concurrency int
	stream      int64
	maxRequests int64
	profileDir  string
	lockProfs   bool
	traces      bool
	sealCost    bool
	gcCost      bool
	tcpSide     bool
	lanes       int
	light       []int
	bin         string // prebuilt bab and bab-exchange, instead of building them
	transport   string // what the tunnels run over
}

func main() {
	var o options
	var stream string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "request-rate time per target, split into 3 alternating rounds")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent request loops")
	flag.StringVar(&stream, "stream", "1GiB", "bytes to stream up and down (e.g. 1GiB, 256MiB, 100MB, 1000000)")
	flag.Int64Var(&o.maxRequests, "max-requests", 1_000_000, "at most this many requests per round and target")
	flag.StringVar(&o.profileDir, "cpuprofile-dir", "", "if set, write CPU profiles here: the daemons' for their whole run, the bench's for one extra through round")
	flag.IntVar(&o.lanes, "lanes", config.DefaultLanes, "connections each appliance keeps to the exchange (tunnels.lanes)")
	flag.BoolVar(&o.traces, "traces", false, "with -cpuprofile-dir, also write the daemons' execution traces there (NAME.trace, for go tool trace; large: use a short -duration)")
	flag.BoolVar(&o.lockProfs, "lockprofiles", false, "with -cpuprofile-dir, also write the daemons' block and mutex profiles there (NAME.block.prof, NAME.mutex.prof)")
	var light string
	flag.StringVar(&light, "light", "1,4", "light concurrencies at which to compare latency, comma-separated; empty for none")
	flag.StringVar(&o.bin, "bin", "", "directory holding prebuilt bab and bab-exchange to measure, instead of building them from the source tree")
	flag.StringVar(&o.transport, "transport", "", "the appliances' transport: auto (the default), quic or tcp (TLS over TCP, the fallback where UDP is blocked)")
	flag.BoolVar(&o.sealCost, sealVariant.flag, false, "also measure the request rate without end-to-end protection (a second lab built with tag babnoseal), side by side with the real one")
	flag.BoolVar(&o.tcpSide, tcpVariant.flag, false, "also measure the request rate and CPU over the TCP fallback (a second lab whose appliances have tunnels.transport: tcp), side by side with -transport")
	flag.BoolVar(&o.gcCost, gcVariant.flag, false, "also measure the request rate and CPU with the collector as Go's default (a second lab whose daemons have GOGC=100), side by side with the real one")
	flag.Parse()
	n, err := parseSize(stream)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "bench: -stream %q: want a positive byte count such as 1GiB\n", stream)
		os.Exit(2)
	}
	o.stream = n
	if o.light, err = parseInts(light); err != nil {
		fmt.Fprintf(os.Stderr, "bench: -light %q: %v\n", light, err)
		os.Exit(2)
	}
	if _, err := transport.ParseMode(o.transport); err != nil {
		fmt.Fprintf(os.Stderr, "bench: -transport: %v\n", err)
		os.Exit(2)
	}
	if o.bin != "" && o.sealCost {
		fmt.Fprintln(os.Stderr, "bench: -seal-cost builds a second pair of binaries from the source tree; it does not go with -bin")
		os.Exit(2)
	}
	if o.duration <= 0 || o.concurrency < 1 || o.maxRequests < 1 {
		fmt.Fprintln(os.Stderr, "bench: -duration, -concurrency and -max-requests must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	failed, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// checks collects correctness failures; the run goes on and reports them.
type checks struct{ failures []string }

func (c *checks) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	c.failures = append(c.failures, msg)
	progress("CHECK FAILED: %s", msg)
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

func run(ctx context.Context, o options) (failed bool, err error) {
	var c checks
	tmp, err := os.MkdirTemp("", "bab-bench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)

	binDir, stripDir, err := binaries(o, tmp)
	if err != nil {
		return false, err
	}
	if o.profileDir != "" {
		if o.profileDir, err = filepath.Abs(o.profileDir); err != nil {
			return false, err
		}
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return false, err
		}
	}
	progress("starting the lab (%d lanes per appliance)…", o.lanes)
	l, err := lab.Start(ctx, lab.Options{Dir: tmp, BinDir: binDir, ProfileDir: o.profileDir, LockProfiles: o.lockProfs, Traces: o.traces, Transport: o.transport, Lanes: o.lanes})
	if err != nil {
		return false, err
	}
	defer l.Close()
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if err := a.AwaitReady(ctx); err != nil {
			return false, err
		}
	}
	procs := []namedProc{
		{"bab (consumer)", l.Consumer.Proc},
		{"bab-exchange", l.Exchange.Proc},
		{"bab (provider)", l.Provider.Proc},
	}

	time.Sleep(time.Second) // let start-up garbage settle before "idle"
	idle := make([]int64, len(procs))
	for i, p := range procs {
		if idle[i], err = p.RSS(); err != nil {
			c.fail("RSS of %s: %v", p.name, err)
		}
	}

	loadBefore := loadAvg()

	// Request rate.
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        4 * o.concurrency,
			MaxIdleConnsPerHost: 2 * o.concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	direct := func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "GET", l.Backend.URL+"/citizens/42", nil)
	}
	through := func(ctx context.Context) (*http.Request, error) {
		return l.Request(ctx, "GET", "/citizens/42", nil)
	}
	reqSampler := startRSS(procs)
	progress("warm-up: %s direct, %s through", warmup, warmup)
	for _, t := range []struct {
		name string
		mk   func(context.Context) (*http.Request, error)
	}{{"direct", direct}, {"through", through}} {
		w := load(ctx, client, t.mk, o.concurrency, warmup, o.maxRequests)
		if w.nerr > 0 {
			c.fail("warm-up %s: %d errors: %s", t.name, w.nerr, w.errSummary())
		}
	}
	per := o.duration / rounds
	var dRes, tRes []loadResult
	// CPU time each process spends during the rounds of each kind, to say
	// where a request's cost goes: index 0 is this process (load generator
	// and sample backend), then the three daemons.
	dCPU, tCPU := make([]time.Duration, 1+len(procs)), make([]time.Duration, 1+len(procs))
	// Heap allocations of the daemons during the through rounds, and
	// their goroutines at rest and half-way through the first one.
	urls := []string{l.Consumer.AdminURL, l.Exchange.AdminURL, l.Provider.AdminURL}
	allocs := newAllocCounter(ctx, urls)
	idleG, err := scrapeAll(ctx, urls, "go_goroutines")
	if err != nil {
		c.fail("goroutines at rest: %v", err)
	}
	var loadG []float64
	for r := 1; r <= rounds; r++ {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		progress("round %d/%d: %s direct", r, rounds, per)
		before := cpuTimes(&c, procs)
		dRes = append(dRes, load(ctx, client, direct, o.concurrency, per, o.maxRequests))
		addCPU(dCPU, before, cpuTimes(&c, procs))
		progress("round %d/%d: %s through Bab", r, rounds, per)
		allocs.start(ctx)
		before = cpuTimes(&c, procs)
		var sample sync.WaitGroup
		if r == 1 {
			sample.Go(func() {
				time.Sleep(per / 2)
				loadG, _ = scrapeAll(ctx, urls, "go_goroutines")
			})
		}
		tRes = append(tRes, load(ctx, client, through, o.concurrency, per, o.maxRequests))
		addCPU(tCPU, before, cpuTimes(&c, procs))
		allocs.stop(ctx)
		sample.Wait()
	}
	if allocs.err != nil {
		c.fail("allocations: %v", allocs.err)
	}
	var lights []lightResult
	lightPer := per / 2
	for _, conc := range o.light {
		lr := lightLoad(ctx, client, direct, through, conc, lightPer, o.maxRequests)
		if lr.d.nerr+lr.t.nerr > 0 {
			c.fail("light load at concurrency %d: %d errors direct, %d through: %s %s", conc, lr.d.nerr, lr.t.nerr, lr.d.errSummary(), lr.t.errSummary())
		}
		lights = append(lights, lr)
	}
	var profileNote string
	if o.profileDir != "" {
		profileNote, err = profiledRound(ctx, o, client, through)
		if err != nil {
			c.fail("profile: %v", err)
		}
	}
	reqPeak := reqSampler.stop(&c)
	var variantLines []string
	for _, v := range []struct {
		v   variant
		ask bool
	}{{sealVariant, o.sealCost}, {gcVariant, o.gcCost}, {tcpVariant, o.tcpSide}} {
		if !v.ask {
			continue
		}
		lines, err := v.v.compare(ctx, o, tmp, l, client)
		if err != nil {
			c.fail("%v", err)
		}
		variantLines = append(variantLines, lines...)
	}
	client.CloseIdleConnections()
	d, t := merge(dRes), merge(tRes)
	if d.nerr > 0 {
		c.fail("direct requests: %d errors: %s", d.nerr, d.errSummary())
	}
	if t.nerr > 0 {
		c.fail("requests through Bab: %d errors: %s", t.nerr, t.errSummary())
	}
	if len(d.lat) == 0 || len(t.lat) == 0 {
		c.fail("no successful requests in one of the two directions")
	}

	// Streams.
	streamClient := &http.Client{Transport: &http.Transport{
		Proxy:              nil,
		DisableCompression: true,
		WriteBufferSize:    64 << 10,
		ReadBufferSize:     64 << 10,
	}}
	toBackend := func(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, method, l.Backend.URL+path, body)
	}
	progress("upload: %d bytes through Bab", o.stream)
	upSampler := startRSS(procs)
	upCPU := make([]time.Duration, 1+len(procs))
	before := cpuTimes(&c, procs)
	up, upSum, err := upload(ctx, l.Request, streamClient, o.stream)
	addCPU(upCPU, before, cpuTimes(&c, procs))
	upPeak := upSampler.stop(&c)
	progress("raw quic-go: %d bytes on one stream", o.stream)
	rawCPU := make([]time.Duration, 1+len(procs))
	before = cpuTimes(&c, procs)
	raw, rawErr := rawQUIC(ctx, o.stream)
	addCPU(rawCPU, before, cpuTimes(&c, procs))
	if rawErr != nil {
		c.fail("raw quic-go stream: %v", rawErr)
	}
	progress("computing the sha256 the backend should report")
	wantSum := patternSHA256(o.stream)
	if err != nil {
		c.fail("upload through Bab: %v", err)
	} else if upSum != wantSum {
		c.fail("upload through Bab: backend's sha256 %s, want %s", upSum, wantSum)
	}
	progress("download: %d bytes through Bab", o.stream)
	downSampler := startRSS(procs)
	downCPU := make([]time.Duration, 1+len(procs))
	before = cpuTimes(&c, procs)
	down, err := download(ctx, l.Request, streamClient, o.stream)
	addCPU(downCPU, before, cpuTimes(&c, procs))
	downPeak := downSampler.stop(&c)
	if err != nil {
		c.fail("download through Bab: %v", err)
	}
	progress("reference: %d bytes up and down straight to the backend", o.stream)
	upDirect, upDirectSum, err := upload(ctx, toBackend, streamClient, o.stream)
	if err != nil {
		c.fail("upload straight to the backend: %v", err)
	} else if upDirectSum != wantSum {
		c.fail("upload straight to the backend: backend's sha256 %s, want %s", upDirectSum, wantSum)
	}
	downDirect, err := download(ctx, toBackend, streamClient, o.stream)
	if err != nil {
		c.fail("download straight from the backend: %v", err)
	}
	streamClient.CloseIdleConnections()
	time.Sleep(time.Second)
	after := make([]int64, len(procs))
	for i, p := range procs {
		if after[i], err = p.RSS(); err != nil {
			c.fail("RSS of %s: %v", p.name, err)
		}
	}

	// Binaries.
	names := []string{"bab", "bab-exchange"}
	labSize, stripSize := make([]int64, len(names)), make([]int64, len(names))
	for i, n := range names {
		labSize[i] = fileSize(&c, filepath.Join(l.Bin, n))
		if stripDir != "" {
			stripSize[i] = fileSize(&c, filepath.Join(stripDir, n))
		}
	}

	// Report.
	w := os.Stdout
	fmt.Fprintf(w, "Bab benchmark: %d CPUs, %s/%s, %s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Everything on loopback in one run; the load generator and the sample backend run in the bench process.\n")
	fmt.Fprintf(w, "1 MB = 10^6 bytes; RSS is VmRSS. Load average before the load (1/5/15 min): %s; after: %s.\n\n", loadBefore, loadAvg())

	fmt.Fprintf(w, "Request rate: GET /citizens/42 (small JSON), %d concurrent loops on one HTTP client,\n", o.concurrency)
	fmt.Fprintf(w, "%d alternating rounds of %s direct then %s through Bab, after %s warm-up each (not counted).\n", rounds, fmtSec(per), fmtSec(per), fmtSec(warmup))
	fmt.Fprintf(w, "Latencies are of successful requests; every response checked: 200, body read fully, non-empty.\n")
	fmt.Fprintf(w, "  %-26s %16s %16s\n", "", "direct", "through Bab")
	fmt.Fprintf(w, "  %-26s %16d %16d\n", "requests ok", len(d.lat), len(t.lat))
	fmt.Fprintf(w, "  %-26s %16d %16d\n", "errors", d.nerr, t.nerr)
	fmt.Fprintf(w, "  %-26s %16.0f %16.0f\n", "rate (req/s)", d.rate(), t.rate())
	fmt.Fprintf(w, "  %-26s %16s %16s\n", "rate per round (req/s)", roundRates(dRes), roundRates(tRes))
	for _, q := range []float64{0.50, 0.90, 0.99} {
		fmt.Fprintf(w, "  %-26s %16.3f %16.3f\n", fmt.Sprintf("p%.0f latency (ms)", q*100), ms(pct(d.lat, q)), ms(pct(t.lat, q)))
	}
	ratio := t.rate() / d.rate()
	fmt.Fprintf(w, "  ratio through/direct (req/s): %.2f\n", ratio)
	fmt.Fprintf(w, "  added latency through Bab: p50 %+.3f ms, p99 %+.3f ms\n",
		ms(pct(t.lat, 0.50)-pct(d.lat, 0.50)), ms(pct(t.lat, 0.99)-pct(d.lat, 0.99)))
	for _, r := range []loadResult{d, t} {
		if r.nerr > 0 {
			fmt.Fprintf(w, "  errors seen: %s\n", r.errSummary())
		}
	}
	cpuPerRequest(w, procs, dCPU, tCPU, len(d.lat)+d.nerr, len(t.lat)+t.nerr, allocs.perRequest(len(t.lat)+t.nerr))
	goroutines(w, procs, idleG, loadG, o.concurrency)
	fmt.Fprintln(w)
	lightLines(w, lights, lightPer)
	if len(variantLines) > 0 {
		fmt.Fprintln(w, strings.Join(variantLines, "\n"))
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "Streaming: %d bytes (%s) of the test pattern, one request each way, Content-Length set.\n", o.stream, humanBytes(o.stream))
	fmt.Fprintf(w, "  %-52s %10s %10s\n", "", "MB/s", "seconds")
	streamLine(w, "upload through Bab (POST /sink; bytes, sha256 checked)", o.stream, up)
	streamLine(w, "download through Bab (GET /bytes; pattern checked)", o.stream, down)
	streamLine(w, "raw quic-go: one stream, mutual TLS 1.3, tunnel windows", o.stream, raw)
	streamLine(w, "reference: upload straight to the backend (HTTP/1.1)", o.stream, upDirect)
	streamLine(w, "reference: download straight from the backend", o.stream, downDirect)
	if raw > 0 {
		if up > 0 {
			fmt.Fprintf(w, "  ratio upload Bab/raw: %.2f\n", raw.Seconds()/up.Seconds())
		}
		if down > 0 {
			fmt.Fprintf(w, "  ratio download Bab/raw: %.2f\n", raw.Seconds()/down.Seconds())
		}
	}
	streamCPU(w, procs, o.stream, upCPU, downCPU, rawCPU[0])
	fmt.Fprintln(w)

	fmt.Fprintf(w, "Memory (RSS in MB; peaks from samples every 100 ms)\n")
	fmt.Fprintf(w, "  %-16s %8s %14s %12s %14s %14s\n", "process", "idle", "peak requests", "peak upload", "peak download", "after streams")
	for i, p := range procs {
		fmt.Fprintf(w, "  %-16s %8.1f %14.1f %12.1f %14.1f %14.1f\n", p.name, float64(idle[i])/mb, float64(reqPeak[i])/mb, float64(upPeak[i])/mb, float64(downPeak[i])/mb, float64(after[i])/mb)
	}
	fmt.Fprintln(w)

	if stripDir == "" {
		fmt.Fprintf(w, "Binary sizes: the binaries of -bin, as given (MB): bab %.1f, bab-exchange %.1f\n\n", float64(labSize[0])/mb, float64(labSize[1])/mb)
	} else {
		binarySizes(w, names, labSize, stripSize)
	}

	fmt.Fprintf(w, "Budgets\n")
	budget(w, "request rate through Bab >= 0.5 x direct", fmt.Sprintf("%.2f", ratio), ratio >= 0.5)
	upRatio := 0.0
	if up > 0 && raw > 0 {
		upRatio = raw.Seconds() / up.Seconds()
	}
	budget(w, "stream keeps most (> 0.5) of raw quic-go", fmt.Sprintf("upload %.2f", upRatio), upRatio > 0.5)
	budget(w, "idle appliance RSS < 25 MB", fmt.Sprintf("%.1f / %.1f MB", float64(idle[0])/mb, float64(idle[2])/mb), idle[0] > 0 && idle[2] > 0 && idle[0] < 25*mb && idle[2] < 25*mb)
	if maxStrip := slices.Max(stripSize); stripDir != "" {
		budget(w, "static binary < 20 MB (stripped, largest)", fmt.Sprintf("%.1f MB", float64(maxStrip)/mb), maxStrip > 0 && maxStrip < 20*mb)
	}
	fmt.Fprintln(w)

	if profileNote != "" {
		fmt.Fprintln(w, profileNote)
		fmt.Fprintln(w)
	}
	if len(c.failures) == 0 {
		fmt.Fprintln(w, "Checks: all passed.")
		return false, nil
	}
	fmt.Fprintf(w, "Checks: %d FAILED\n", len(c.failures))
	for _, f := range c.failures {
		fmt.Fprintf(w, "  - %s\n", f)
	}
	return true, nil
}

// ---- request rate ----

type loadResult struct {
	lat     []time.Duration
	nerr    int
	errs    map[string]int
	elapsed time.Duration
}

// load runs conc loops of requests for d or until limit requests were
// started, whichever comes first.
func load(ctx context.Context, client *http.Client, mk func(context.Context) (*http.Request, error), conc int, d time.Duration, limit int64) loadResult {
	var (
		started atomic.Int64
		mu      sync.Mutex
		res     = loadResult{errs: map[string]int{}}
		wg      sync.WaitGroup
	)
	begin := time.Now()
	deadline := begin.Add(d)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			errs := map[string]int{}
			nerr := 0
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= limit {
				t0 := time.Now()
				if err := once(ctx, client, mk); err != nil {
					nerr++
					errs[err.Error()]++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.nerr += nerr
			for k, v := range errs {
				res.errs[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	return res
}

func once(ctx context.Context, client *http.Client, mk func(context.Context) (*http.Request, error)) error {
	req, err := mk(ctx)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("status %s%s", resp.Status, problemCode(resp.Header.Get("Content-Type"), body))
	}
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return fmt.Errorf("read body: %w", err)
	case n == 0:
		return errors.New("empty body")
	}
	return nil
}

// problemCode is ", CODE at HOP: DETAIL" for a problem answer, or "".
func problemCode(contentType string, body []byte) string {
	if !strings.HasPrefix(contentType, "application/problem+json") {
		return ""
	}
	var p struct{ Code, Hop, Detail string }
	if json.Unmarshal(body, &p) != nil || p.Code == "" {
		return ""
	}
	return ", " + p.Code + " at " + p.Hop + ": " + p.Detail
}

func merge(rs []loadResult) loadResult {
	m := loadResult{errs: map[string]int{}}
	for _, r := range rs {
		m.lat = append(m.lat, r.lat...)
		m.nerr += r.nerr
		m.elapsed += r.elapsed
		for k, v := range r.errs {
			m.errs[k] += v
		}
	}
	slices.Sort(m.lat)
	return m
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

func (r loadResult) errSummary() string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range r.errs {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for i, e := range all {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("… %d more kinds", len(all)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %s", e.v, e.k))
	}
	return strings.Join(parts, "; ")
}

func roundRates(rs []loadResult) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, strconv.FormatFloat(r.rate(), 'f', 0, 64))
	}
	return strings.Join(parts, "/")
}

// pct is the q-quantile of sorted durations (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtSec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// profiledRound runs one extra through round of profileTime while the
// bench's own CPU profile is recorded. Its figures are not in the report.
func profiledRound(ctx context.Context, o options, client *http.Client, through func(context.Context) (*http.Request, error)) (string, error) {
	path := filepath.Join(o.profileDir, "bench-through.prof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	progress("profiled round: %s through Bab", profileTime)
	if err := pprof.StartCPUProfile(f); err != nil {
		return "", err
	}
	r := load(ctx, client, through, o.concurrency, profileTime, o.maxRequests)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return "", err
	}
	if r.nerr > 0 {
		return "", fmt.Errorf("profiled round: %d errors: %s", r.nerr, r.errSummary())
	}
	return fmt.Sprintf("CPU profiles in %s (read them with `go tool pprof FILE`):\n"+
		"  bench-through.prof  the bench process (load generator and sample backend) during an extra\n"+
		"                      %s through-Bab round (%.0f req/s, not counted above)\n"+
		"  exchange.prof, %s.prof, %s.prof  bab-exchange and the two appliances over their\n"+
		"                      whole run (all phases); written when the lab stops, right after this report\n"+
		"Profiling was on during every phase above, which costs the daemons a little CPU.",
		o.profileDir, fmtSec(profileTime), r.rate(), lab.CommuneHQ.Name, lab.RegistryDC.Name), nil
}

// ---- memory ----

type namedProc struct {
	name string
	*lab.Proc
}

type rssSampler struct {
	procs []namedProc
	peak  []int64
	errs  []error
	done  chan struct{}
	wg    sync.WaitGroup
}

// startRSS samples the processes' RSS every 100 ms until stop.
func startRSS(procs []namedProc) *rssSampler {
	s := &rssSampler{procs: procs, peak: make([]int64, len(procs)), errs: make([]error, len(procs)), done: make(chan struct{})}
	sample := func() {
		for i, p := range procs {
			v, err := p.RSS()
			if err != nil {
				s.errs[i] = err
				continue
			}
			s.peak[i] = max(s.peak[i], v)
		}
	}
	sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				sample()
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return s
}

func (s *rssSampler) stop(c *checks) []int64 {
	close(s.done)
	s.wg.Wait()
	for i, err := range s.errs {
		if err != nil {
			c.fail("RSS of %s: %v", s.procs[i].name, err)
		}
	}
	return s.peak
}

// ---- streams ----

// source is n bytes of the lab pattern, read in large blocks (the pattern
// rebuilds a 64 KiB block on every Read, so small reads would cost more
// than the data).
func source(n int64) io.Reader {
	return io.LimitReader(bufio.NewReaderSize(lab.Pattern(), 1<<20), n)
}

// newReq builds a request to a path of the sample backend, either through
// Bab (lab.Request) or straight to it.
type newReq func(ctx context.Context, method, path string, body io.Reader) (*http.Request, error)

func upload(ctx context.Context, mk newReq, client *http.Client, n int64) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, streamLimit)
	defer cancel()
	req, err := mk(ctx, "POST", "/sink", source(n))
	if err != nil {
		return 0, "", err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	elapsed := time.Since(start)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("status %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var got struct {
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return 0, "", fmt.Errorf("backend answer %q: %v", raw, err)
	}
	if got.Bytes != n {
		return 0, "", fmt.Errorf("backend received %d bytes, want %d", got.Bytes, n)
	}
	return elapsed, got.SHA256, nil
}

func patternSHA256(n int64) string {
	h := sha256.New()
	_, _ = io.Copy(h, source(n))
	return hex.EncodeToString(h.Sum(nil))
}

func download(ctx context.Context, mk newReq, client *http.Client, n int64) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, streamLimit)
	defer cancel()
	req, err := mk(ctx, "GET", "/bytes?n="+strconv.FormatInt(n, 10), nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return 0, fmt.Errorf("status %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	ok, err := lab.PatternEqual(resp.Body, n)
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errors.New("body is not the first n bytes of the pattern")
	}
	return elapsed, nil
}

// rawQUIC is the ceiling: the same bytes on one quic-go stream between an
// in-process server and client on loopback, mutual TLS 1.3, with the
// tunnels' QUIC settings. The server reads and discards, then answers the
// byte count; the time runs from opening the stream to that answer.
func rawQUIC(ctx context.Context, n int64) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, streamLimit)
	defer cancel()
	serverTLS, clientTLS, err := throwawayTLS()
	if err != nil {
		return 0, err
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", serverTLS, tunnel.DefaultQUICConfig())
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			srvErr <- err
			return
		}
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			srvErr <- err
			return
		}
		buf := make([]byte, 64<<10)
		var got int64
		for {
			k, err := s.Read(buf)
			got += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				srvErr <- err
				return
			}
		}
		var out [8]byte
		binary.BigEndian.PutUint64(out[:], uint64(got))
		if _, err := s.Write(out[:]); err != nil {
			srvErr <- err
			return
		}
		srvErr <- s.Close()
		<-conn.Context().Done() // the client closes once it has the count
	}()

	conn, err := quic.DialAddr(ctx, ln.Addr().String(), clientTLS, tunnel.DefaultQUICConfig())
	if err != nil {
		return 0, err
	}
	defer conn.CloseWithError(0, "done")
	start := time.Now()
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	src := source(n)
	buf := make([]byte, 64<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := s.Write(buf[:k]); werr != nil {
				return 0, werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if err := s.Close(); err != nil {
		return 0, err
	}
	var in [8]byte
	if _, err := io.ReadFull(s, in[:]); err != nil {
		return 0, fmt.Errorf("read count: %w (server: %v)", err, nonBlocking(srvErr))
	}
	elapsed := time.Since(start)
	if err := <-srvErr; err != nil {
		return 0, fmt.Errorf("server: %w", err)
	}
	if got := int64(binary.BigEndian.Uint64(in[:])); got != n {
		return 0, fmt.Errorf("server read %d bytes, want %d", got, n)
	}
	return elapsed, nil
}

func nonBlocking(ch chan error) error {
	select {
	case err := <-ch:
		return err
	default:
		return nil
	}
}

// throwawayTLS makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all ECDSA P-256, and TLS 1.3 configs that require both.
func throwawayTLS() (server, client *tls.Config, err error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (tls.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	srvCert, err := leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, err
	}
	cliCert, err := leaf(3, "bench client", x509.ExtKeyUsageClientAuth, nil)
	if err != nil {
		return nil, nil, err
	}
	const alpn = "bab-bench"
	server = &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{srvCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, NextProtos: []string{alpn},
	}
	client = &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cliCert},
		RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{alpn},
	}
	return server, client, nil
}

func streamLine(w io.Writer, label string, n int64, d time.Duration) {
	if d <= 0 {
		fmt.Fprintf(w, "  %-52s %10s %10s\n", label, "failed", "-")
		return
	}
	fmt.Fprintf(w, "  %-52s %10.0f %10.2f\n", label, float64(n)/mb/d.Seconds(), d.Seconds())
}

// ---- binaries ----

func binarySizes(w io.Writer, names []string, labSize, stripSize []int64) {
	fmt.Fprintf(w, "Binary sizes (linux/%s, CGO_ENABLED=0)\n", runtime.GOARCH)
	fmt.Fprintf(w, "  %-14s %24s %30s\n", "binary", "as the lab builds (MB)", "stripped, -ldflags=-s -w (MB)")
	for i, n := range names {
		fmt.Fprintf(w, "  %-14s %24.1f %30.1f\n", n, float64(labSize[i])/mb, float64(stripSize[i])/mb)
	}
	fmt.Fprintf(w, "  (the lab builds with -trimpath and does not strip)\n\n")
}

// binaries are the bab and bab-exchange to measure: -bin's, or both
// builds from the source tree, first and before anything is measured:
// as the lab builds (not stripped) and stripped. stripDir is empty with
// -bin.
func binaries(o options, tmp string) (binDir, stripDir string, err error) {
	if o.bin != "" {
		if binDir, err = filepath.Abs(o.bin); err != nil {
			return "", "", err
		}
		for _, n := range []string{"bab", "bab-exchange"} {
			if _, err := os.Stat(filepath.Join(binDir, n)); err != nil {
				return "", "", fmt.Errorf("-bin: %w", err)
			}
		}
		progress("measuring the binaries in %s", binDir)
		return binDir, "", nil
	}
	progress("building bab and bab-exchange, as the lab does and stripped…")
	binDir, stripDir = filepath.Join(tmp, "bin"), filepath.Join(tmp, "stripped")
	if err := lab.Build(binDir); err != nil {
		return "", "", err
	}
	if err := buildStripped(stripDir); err != nil {
		return "", "", fmt.Errorf("stripped build: %w", err)
	}
	return binDir, stripDir, nil
}

func buildStripped(dir string) error {
	root, err := lab.ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", dir+string(os.PathSeparator), "./cmd/bab", "./cmd/bab-exchange")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

func fileSize(c *checks, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		c.fail("size of %s: %v", filepath.Base(path), err)
		return 0
	}
	return fi.Size()
}

// ---- formatting ----

// loadAvg is the machine's load average, a hint of what else ran.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func budget(w io.Writer, what, got string, met bool) {
	verdict := "met"
	if !met {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "  %-44s %-22s %s\n", what, got, verdict)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	}
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil {
				return 0, err
			}
			return v * u.mult, nil
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// cpuTimes reads the CPU time used so far by this process and each daemon.
func cpuTimes(c *checks, procs []namedProc) []time.Duration {
	out := make([]time.Duration, 1+len(procs))
	var err error
	if out[0], err = lab.SelfCPUTime(); err != nil {
		c.fail("CPU time of the bench: %v", err)
	}
	for i, p := range procs {
		if out[i+1], err = p.CPUTime(); err != nil {
			c.fail("CPU time of %s: %v", p.name, err)
		}
	}
	return out
}

func addCPU(sum, before, after []time.Duration) {
	for i := range sum {
		sum[i] += after[i] - before[i]
	}
}

// cpuPerRequest prints the CPU microseconds each process spent per
// request, direct and through Bab, the daemons' mean per hop, and each
// daemon's heap allocations per request through Bab.
func cpuPerRequest(w io.Writer, procs []namedProc, dCPU, tCPU []time.Duration, dN, tN int, allocs []string) {
	per := func(d time.Duration, n int) string {
		if n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(n))
	}
	fmt.Fprintf(w, "\nCPU per request (microseconds of CPU time, from /proc, during the rounds above),\n")
	fmt.Fprintf(w, "and heap allocations per request through Bab (go_memstats_mallocs_total and _alloc_bytes_total)\n")
	fmt.Fprintf(w, "  %-34s %10s %12s %18s\n", "process", "direct", "through Bab", "allocations")
	fmt.Fprintf(w, "  %-34s %10s %12s %18s\n", "bench (load generator + backend)", per(dCPU[0], dN), per(tCPU[0], tN), "")
	var dSum, tSum, hops time.Duration = dCPU[0], tCPU[0], 0
	for i, p := range procs {
		fmt.Fprintf(w, "  %-34s %10s %12s %18s\n", p.name, per(dCPU[i+1], dN), per(tCPU[i+1], tN), allocs[i])
		dSum += dCPU[i+1]
		tSum += tCPU[i+1]
		hops += tCPU[i+1]
	}
	fmt.Fprintf(w, "  %-34s %10s %12s\n", "the three daemons", "", per(hops, tN))
	fmt.Fprintf(w, "  %-34s %10s %12s\n", "per hop (the daemons' sum / 3)", "", per(hops/3, tN))
	fmt.Fprintf(w, "  %-34s %10s %12s\n", "all", per(dSum, dN), per(tSum, tN))
}

// streamCPU prints the CPU time each process spent per MB streamed
// through Bab, up and down: on a machine the daemons share, it says
// whether a stream is bound by the CPU.
func streamCPU(w io.Writer, procs []namedProc, n int64, up, down []time.Duration, raw time.Duration) {
	if n < 64<<20 {
		return // /proc counts CPU time in ticks of 10 ms: too coarse for less
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / (float64(n) / mb) }
	fmt.Fprintf(w, "  CPU per MB streamed through Bab (microseconds, from /proc), up / down:\n")
	fmt.Fprintf(w, "    %-32s %6.0f / %.0f\n", "bench (client + backend)", per(up[0]), per(down[0]))
	var us, ds time.Duration
	for i, p := range procs {
		fmt.Fprintf(w, "    %-32s %6.0f / %.0f\n", p.name, per(up[i+1]), per(down[i+1]))
		us, ds = us+up[i+1], ds+down[i+1]
	}
	fmt.Fprintf(w, "    %-32s %6.0f / %.0f\n", "the three daemons", per(us), per(ds))
	fmt.Fprintf(w, "    %-32s %6.0f (both ends, one way)\n", "raw quic-go, for comparison", per(raw))
}

// goroutines prints each daemon's goroutines at rest and under load, and
// the difference per request in flight (at most conc are).
func goroutines(w io.Writer, procs []namedProc, idle, loaded []float64, conc int) {
	if len(idle) != len(procs) || len(loaded) != len(procs) {
		return
	}
	fmt.Fprintf(w, "Goroutines (go_goroutines) at rest and half-way through the first through round; at most %d\n", conc)
	fmt.Fprintf(w, "requests are in flight, fewer at each daemon (the others are elsewhere on the path).\n")
	fmt.Fprintf(w, "  %-34s %10s %12s %12s\n", "process", "at rest", "under load", "extra / conc")
	for i, p := range procs {
		fmt.Fprintf(w, "  %-34s %10.0f %12.0f %12.1f\n", p.name, idle[i], loaded[i], (loaded[i]-idle[i])/float64(conc))
	}
}
