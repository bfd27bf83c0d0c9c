package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/loudskip"
	"github.com/babgate/bab/problem"
)

// TestTraceQueueRefusesWhenTheDiskStalls attacks the promise that every
// request the exchange carries is traced: with a tiny trace queue, the
// real exchange's disk is made to stall (strace holds each of its
// fdatasync calls for seconds, so that no batch of records reaches the
// disk) while requests keep coming. Those that find no place are refused
// with trace_unavailable and never reach the provider; every request that
// was carried is in the trace once the disk moves again, and the log
// verifies.
func TestTraceQueueRefusesWhenTheDiskStalls(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		loudskip.Skip(t, "strace is not installed, so the exchange's disk cannot be made to stall (scripts/deps installs it)")
	}
	l := newLab(t, lab.Options{ExchangeYAML: "trace_queue: 4\ntrace_queue_wait: 500ms\ntrace_checkpoint_every: 200ms\n"})
	if resp, b := do(t, l, "GET", "/citizens/1", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("warm-up: %d %s", resp.StatusCode, b)
	}
	waitFor(t, 5*time.Second, func() error { return traceHas(l, 1) })

	stall := exec.Command("strace", "-f", "-qq", "-p", strconv.Itoa(l.Exchange.PID()), "-o", "/dev/null",
		"-e", "trace=fdatasync", "-e", "inject=fdatasync:delay_enter=4000000")
	var straceErr strings.Builder
	stall.Stderr = &straceErr
	if err := stall.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = stall.Wait(); close(exited) }()
	stop := func() {
		_ = stall.Process.Signal(syscall.SIGTERM)
		<-exited
	}
	defer stop()
	for deadline := time.Now().Add(5 * time.Second); traced(l.Exchange.PID()) != nil; time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			loudskip.Skip(t, "strace cannot attach to the exchange here, so its disk cannot be made to stall (ptrace not permitted?): %s", strings.TrimSpace(straceErr.String()))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("strace did not attach to the exchange within 5s")
		}
	}

	before := l.Backend.Requests.Load()
	type result struct {
		status int
		code   problem.Code
		id     string
		retry  string
	}
	results := make([]result, 12)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, _ := l.Request(ctx, "GET", "/citizens/"+strconv.Itoa(100+i), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				b.WriteString(string(buf[:n]))
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			results[i] = result{resp.StatusCode, problemCodeOf([]byte(b.String())), resp.Header.Get("Bab-Request-Id"), resp.Header.Get("Retry-After")}
		})
		time.Sleep(20 * time.Millisecond) // after the first records are handed to the stalled writer
	}
	wg.Wait()
	carried, refused := map[string]bool{}, map[string]bool{}
	for i, r := range results {
		switch {
		case r.status == 200:
			carried[r.id] = true
		case r.status == 503 && r.code == problem.TraceUnavailable && r.retry == "1":
			refused[r.id] = true
		default:
			t.Errorf("request %d: status %d, problem %q, Retry-After %q; want 200 or 503 trace_unavailable", i, r.status, r.code, r.retry)
		}
	}
	t.Logf("with the disk stalled: %d carried, %d refused with trace_unavailable", len(carried), len(refused))
	if len(refused) == 0 || len(carried) == 0 || len(carried) > 4 {
		t.Fatalf("%d carried and %d refused; want at most the queue's 4 carried and the others refused", len(carried), len(refused))
	}
	if got := l.Backend.Requests.Load() - before; got != int64(len(carried)) {
		t.Errorf("the backend saw %d requests, but %d were carried: a refused request went through", got, len(carried))
	}
	f, err := lab.Scrape(context.Background(), l.Exchange.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Value("bab_exchange_trace_queue_total", "result", "refused"); int(n) != len(refused) {
		t.Errorf("bab_exchange_trace_queue_total{result=refused} = %v, want %d", n, len(refused))
	}

	// The disk moves again: every carried request is in the trace, no
	// refused one, and the log verifies.
	stop()
	var list []store.LoggedEntry
	waitFor(t, 20*time.Second, func() error {
		list = nil
		if err := getJSON(l, "/v1/trace?limit=100", &list); err != nil {
			return err
		}
		n := 0
		for _, e := range list {
			if carried[e.ID] {
				n++
			}
		}
		if n != len(carried) {
			return errString(strconv.Itoa(n) + " of the carried requests traced so far")
		}
		return nil
	})
	for _, e := range list {
		if refused[e.ID] {
			t.Errorf("refused request %s is in the trace as %+v", e.ID, e.TraceEntry)
		}
	}
	if out, err := exchangeCmd(l, "trace", "verify"); err != nil {
		t.Fatalf("trace verify: %v\n%s", err, out)
	}
	if resp, b := do(t, l, "GET", "/citizens/2", nil, nil); resp.StatusCode != 200 {
		t.Errorf("after the stall: %d %s", resp.StatusCode, b)
	}
}

// traced says whether a tracer is attached to pid.
func traced(pid int) error {
	out, err := exec.Command("grep", "TracerPid", "/proc/"+strconv.Itoa(pid)+"/status").Output()
	if err != nil {
		return err
	}
	if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "TracerPid:")) == "0" {
		return errString("strace is not attached yet")
	}
	return nil
}

// traceHas waits until the trace holds n records.
func traceHas(l *lab.Lab, n int) error {
	var list []store.LoggedEntry
	if err := getJSON(l, "/v1/trace?limit=100", &list); err != nil {
		return err
	}
	if len(list) < n {
		return errString("the trace holds " + strconv.Itoa(len(list)) + " records")
	}
	return nil
}
