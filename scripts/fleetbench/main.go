// Command fleetbench measures how fast a policy push reaches a fleet: for
// each fleet size N it connects N real appliances (internal/fleetsim, all
// in this process, each with its own QUIC tunnel, policy verification and
// bbolt file) to one bab-exchange, pushes new policy versions one after the
// other and times each push until the exchange counts every connected
// appliance as having applied it. Run it from the source tree:
//
//	go run ./scripts/fleetbench [-n 100,1000] [-pushes 20] [-state-dir DIR] [-cpuprofile-dir DIR]
//
// Pushes alternate between the two forms the exchange can send: deltas
// against the bundle each appliance holds (what a push does) and the whole
// bundle (policy push --whole). It prints, per N and form, p50/p99/max
// propagation by nearest rank, the bytes sent to each appliance and the
// CPU per push of the exchange and of the appliances; then the exchange's
// RSS with the N tunnels open and per tunnel, and this process's RSS per
// simulated appliance. The exchange restarts before each N so that each
// size starts from the same baseline. A fleet of 10,000 is tried only when
// -n names it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/babgate/bab/exchange"
	xconfig "github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/internal/fleetsim"
	"github.com/babgate/bab/internal/lab"
)

const (
	settle       = time.Second      // after the fleet connects, before measuring
	fdsPerApp    = 6                // sockets and files one simulated appliance holds, with margin
	reconnectMax = 60 * time.Second // the lab's appliances must be back this soon after an exchange restart
	mb           = 1e6
)

type options struct {
	sizes      []int
	pushes     int
	profileDir string
	stateDir   string
}

// memoryDir is where the simulated appliances keep their state files by
// default: memory-backed, so that bbolt's writes and syncs stay real but
// cheap. A thousand appliances syncing one shared disk would measure that
// disk's journal, not Bab; each real appliance has a disk of its own.
const memoryDir = "/dev/shm"

func main() {
	var o options
	sizes := flag.String("n", "100,1000", "fleet sizes, comma-separated (10000 is tried only when named here)")
	flag.IntVar(&o.pushes, "pushes", 20, "timed pushes per form and fleet size")
	flag.StringVar(&o.stateDir, "state-dir", "", "where the simulated appliances keep their state files (default: under "+memoryDir+" when it exists); name a directory on disk to include the disk's syncs")
	flag.StringVar(&o.profileDir, "cpuprofile-dir", "", "if set, write CPU profiles here: the daemons' (the exchange's covers the last fleet size) and this process's during the timed pushes of the last size (fleetbench.prof)")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "fleetbench: -n %q: want positive fleet sizes such as 100,1000\n", *sizes)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.pushes < 1 || o.pushes > 1000 {
		fmt.Fprintln(os.Stderr, "fleetbench: -pushes must be from 1 to 1000")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func progress(format string, a ...any) { fmt.Fprintf(os.Stderr, "fleetbench: "+format+"\n", a...) }

// form is how a push reaches the appliances: deltas (what Push does) or
// the whole bundle (PushWhole).
type form struct {
	name  string
	whole bool
}

var forms = []form{{"delta", false}, {"whole", true}}

// result is one fleet size's figures.
type result struct {
	n                      int
	enroll                 time.Duration // enrollment and connection of the whole fleet
	times                  map[string][]time.Duration
	xBefore, xIdle, xAfter int64 // exchange RSS before the fleet, with it before any push, and after the pushes
	selfBefore, selfWith   int64 // this process's RSS
	sizes                  fleetsim.Sizes
	xCPU, selfCPU          map[string]time.Duration // CPU per push by the exchange and by this process
	warnings, errors       int
	lastError              string
	warned                 map[string]int
	// The reconnection storm after an exchange restart: how long until
	// every appliance was back, and the handshakes the exchange refused
	// meanwhile (limits.handshakes_per_second).
	storm        time.Duration
	stormRefused float64
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "bab-fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.stateDir == "" {
		if fi, err := os.Stat(memoryDir); err == nil && fi.IsDir() {
			o.stateDir = memoryDir
		}
	}
	states, err := os.MkdirTemp(o.stateDir, "bab-fleetbench-states-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(states)
	progress("the simulated appliances' state files are under %s", states)
	if o.profileDir != "" {
		if o.profileDir, err = filepath.Abs(o.profileDir); err != nil {
			return err
		}
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	progress("building and starting the lab (software keys)…")
	// The shipped heartbeat (the lab's default of 2 s is for tests that
	// need to notice a dead peer quickly).
	l, err := lab.Start(ctx, lab.Options{Dir: filepath.Join(tmp, "lab"), SoftwareKeys: true, ProfileDir: o.profileDir,
		Heartbeat: xconfig.DefaultHeartbeat})
	if err != nil {
		return err
	}
	defer l.Close()

	var results []result
	for i, n := range o.sizes {
		if limit := fileLimit(); limit > 0 && int64(n)*fdsPerApp+200 > limit {
			progress("N=%d skipped: it needs about %d open files and the limit is %d", n, n*fdsPerApp+200, limit)
			continue
		}
		if i > 0 {
			if err := restartExchange(ctx, l); err != nil {
				return err
			}
		}
		r, err := measure(ctx, l, n, o.pushes, filepath.Join(states, fmt.Sprintf("fleet-%d", n)), o.profileDir)
		if err != nil {
			return fmt.Errorf("with %d appliances: %w", n, err)
		}
		results = append(results, r)
	}
	report(results, o.pushes)
	return nil
}

func measure(ctx context.Context, l *lab.Lab, n, pushes int, dir, profileDir string) (result, error) {
	r := result{n: n}
	time.Sleep(settle)
	var err error
	if r.xBefore, err = l.Exchange.RSS(); err != nil {
		return r, err
	}
	if r.selfBefore, err = lab.SelfRSS(); err != nil {
		return r, err
	}
	progress("N=%d: enrolling and connecting…", n)
	start := time.Now()
	f, err := fleetsim.Start(ctx, l, n, dir)
	if err != nil {
		return r, err
	}
	defer f.Close()
	r.enroll = time.Since(start)
	progress("N=%d: %d tunnels up in %s; one untimed push, then %d timed", n, n, r.enroll.Round(time.Millisecond), pushes)
	time.Sleep(settle)
	if r.xIdle, err = l.Exchange.RSS(); err != nil {
		return r, err
	}
	if _, err := f.PushAndWait(ctx, false); err != nil {
		return r, err
	}
	if profileDir != "" {
		stop, err := startProfile(filepath.Join(profileDir, "fleetbench.prof"))
		if err != nil {
			return r, err
		}
		defer stop()
	}
	// The two forms alternate, so that both see the same machine: it is
	// shared and its load drifts.
	r.times, r.xCPU, r.selfCPU = map[string][]time.Duration{}, map[string]time.Duration{}, map[string]time.Duration{}
	for i := range pushes * len(forms) {
		fm := forms[i%len(forms)]
		x0, err1 := l.Exchange.CPUTime()
		s0, err2 := lab.SelfCPUTime()
		d, err := f.PushAndWait(ctx, fm.whole)
		if err != nil {
			return r, fmt.Errorf("push %d (%s): %w", i+1, fm.name, err)
		}
		x1, err3 := l.Exchange.CPUTime()
		s1, err4 := lab.SelfCPUTime()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return r, err
		}
		r.times[fm.name] = append(r.times[fm.name], d)
		r.xCPU[fm.name] += (x1 - x0) / time.Duration(pushes)
		r.selfCPU[fm.name] += (s1 - s0) / time.Duration(pushes)
	}
	if r.xAfter, err = l.Exchange.RSS(); err != nil {
		return r, err
	}
	if r.selfWith, err = lab.SelfRSS(); err != nil {
		return r, err
	}
	r.sizes = f.Sizes()
	r.warnings, r.errors, r.lastError = f.Logs().Counts()
	r.warned = f.Logs().Warned()
	r.storm, r.stormRefused, err = storm(ctx, l, n)
	return r, err
}

// storm restarts the exchange under a connected fleet of n and returns
// how long until every appliance (the fleet and the lab's two) was
// connected again, and how many handshakes the exchange refused meanwhile.
func storm(ctx context.Context, l *lab.Lab, n int) (time.Duration, float64, error) {
	progress("N=%d: restarting the exchange under the fleet…", n)
	if err := l.Exchange.Stop(); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := l.StartExchange(ctx); err != nil {
		return 0, 0, err
	}
	for deadline := time.Now().Add(reconnectMax); ; {
		var a exchange.PolicyAcks
		if err := l.Exchange.Call("GET", "/v1/policy/acks", nil, &a); err == nil && a.Connected >= n+2 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("the fleet was not back %s after an exchange restart", reconnectMax)
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	took := time.Since(start)
	fam, err := lab.Scrape(ctx, l.Exchange.AdminURL)
	if err != nil {
		return 0, 0, err
	}
	refused, _ := fam.Value("bab_exchange_limited_total", "limit", "handshakes_per_second")
	return took, refused, nil
}

// restartExchange gives the next fleet size a fresh exchange process (its
// registry stays) and waits until the lab's own appliances are back.
func restartExchange(ctx context.Context, l *lab.Lab) error {
	progress("restarting the exchange for a fresh baseline…")
	if err := l.Exchange.Stop(); err != nil {
		return err
	}
	if err := l.StartExchange(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(reconnectMax)
	for time.Now().Before(deadline) {
		var a exchange.PolicyAcks
		if err := l.Exchange.Call("GET", "/v1/policy/acks", nil, &a); err == nil && a.Connected >= 2 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("the lab's appliances did not reconnect to the restarted exchange")
}

func report(results []result, pushes int) {
	fmt.Printf("Policy propagation: push → every connected appliance acknowledged; %d timed pushes per form and N, the forms alternating (nearest rank)\n\n", pushes)
	fmt.Println("| N | form | p50 | p99 | max | bytes to each appliance | bytes per push (N ×) | exchange CPU per push | appliances' CPU per push (per appliance) | 1,000 in < 1 s p99 |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		for _, fm := range forms {
			s := slices.Clone(r.times[fm.name])
			slices.Sort(s)
			size := r.sizes.Delta
			if fm.whole {
				size = r.sizes.Whole
			}
			met := ""
			if r.n == 1000 {
				met = "no"
				if rank(s, 0.99) < time.Second {
					met = "yes"
				}
			}
			self := r.selfCPU[fm.name]
			fmt.Printf("| %d | %s | %s | %s | %s | %d B | %.2f MB | %s | %s (%.2f ms) | %s |\n",
				r.n, fm.name, ms(rank(s, 0.50)), ms(rank(s, 0.99)), ms(s[len(s)-1]), size, float64(size)*float64(r.n)/mb,
				ms(r.xCPU[fm.name]), ms(self), float64(self)/float64(time.Millisecond)/float64(r.n), met)
		}
	}
	fmt.Println()
	fmt.Println("| N | exchange RSS before | exchange RSS, N tunnels idle | per tunnel idle | exchange RSS after pushes | per tunnel after pushes | bench RSS per appliance |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %d | %.1f MB | %.1f MB | %.1f kB | %.1f MB | %.1f kB | %.1f kB |\n",
			r.n, float64(r.xBefore)/mb, float64(r.xIdle)/mb, float64(r.xIdle-r.xBefore)/float64(r.n)/1e3,
			float64(r.xAfter)/mb, float64(r.xAfter-r.xBefore)/float64(r.n)/1e3,
			float64(r.selfWith-r.selfBefore)/float64(r.n)/1e3)
	}
	fmt.Println()
	for _, r := range results {
		fmt.Printf("N=%d: after an exchange restart under the fleet, all %d appliances back in %s (%.0f handshakes refused as over limits.handshakes_per_second)\n",
			r.n, r.n+2, r.storm.Round(time.Millisecond), r.stormRefused)
		fmt.Printf("N=%d: fleet enrolled and connected in %s; appliances logged %d warnings, %d errors", r.n, r.enroll.Round(time.Millisecond), r.warnings, r.errors)
		if r.lastError != "" {
			fmt.Printf(" (last: %s)", r.lastError)
		}
		fmt.Println()
		for _, msg := range slices.Sorted(maps.Keys(r.warned)) {
			fmt.Printf("  %d× %s\n", r.warned[msg], msg)
		}
	}
}

// rank is the nearest-rank percentile of sorted s.
func rank(s []time.Duration, p float64) time.Duration {
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// startProfile profiles this process (the simulated appliances) into
// path, replacing what an earlier fleet size wrote there.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// fileLimit is the open-file limit of this process, 0 if unknown.
func fileLimit() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return int64(rl.Cur)
}
