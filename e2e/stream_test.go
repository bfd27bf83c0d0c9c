package e2e

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestStream1GiBWithFlatMemory sends 1 GiB up through the whole path,
// chunked, and gets it echoed back at the same time, byte for byte, while the resident
// memory of the two appliances and the exchange stays within 64 MiB of
// what they used idle: nothing buffers a body whole.
func TestStream1GiBWithFlatMemory(t *testing.T) {
	const size = 1 << 30
	const slack = 64 << 20
	l := newLab(t, lab.Options{})
	procs := map[string]*lab.Proc{"consumer": l.Consumer.Proc, "exchange": l.Exchange.Proc, "provider": l.Provider.Proc}
	// Warm the path so that idle includes the connections a request sets up.
	if resp, _ := do(t, l, "POST", "/echo", io.LimitReader(lab.Pattern(), 1<<20), nil); resp.StatusCode != 200 {
		t.Fatal("warm-up failed")
	}
	idle := map[string]int64{}
	for name, p := range procs {
		rss, err := p.RSS()
		if err != nil {
			t.Fatal(err)
		}
		idle[name] = rss
	}

	peak := map[string]int64{}
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			for name, p := range procs {
				if rss, err := p.RSS(); err == nil && rss > peak[name] {
					peak[name] = rss
				}
			}
			mu.Unlock()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := l.Request(ctx, "POST", "/echo", io.LimitReader(lab.Pattern(), size))
	if err != nil {
		t.Fatal(err)
	}
	// Chunked, as most callers that stream send it: a gateway that let
	// net/http discard unread body once the answer started would lose
	// 256 KiB from the middle here, and the pattern shows where.
	req.ContentLength = -1
	req.Header.Set("Bab-Timeout", "5m")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := lab.PatternEqual(resp.Body, size)
	resp.Body.Close()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil || !ok || resp.StatusCode != 200 {
		t.Fatalf("1 GiB echo: status %d, byte-exact %v, err %v", resp.StatusCode, ok, err)
	}
	t.Logf("1 GiB up and 1 GiB back in %s (%.0f MB/s each way)", elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
	for name := range procs {
		t.Logf("%-8s RSS idle %5.1f MB, peak %5.1f MB, grew %5.1f MB", name, float64(idle[name])/1e6, float64(peak[name])/1e6, float64(peak[name]-idle[name])/1e6)
		if peak[name]-idle[name] > slack {
			t.Errorf("%s grew by %.1f MB while streaming, more than %d MiB", name, float64(peak[name]-idle[name])/1e6, slack>>20)
		}
	}
}
