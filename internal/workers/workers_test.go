package workers

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEveryTaskRunsAtOnce(t *testing.T) {
	p := New()
	// Tasks that wait for each other: a pool that queued them would never
	// finish.
	const n = 50
	var started sync.WaitGroup
	started.Add(n)
	release := make(chan struct{})
	var done sync.WaitGroup
	done.Add(n)
	for range n {
		p.Go(func() {
			started.Done()
			<-release
			done.Done()
		})
	}
	waited := make(chan struct{})
	go func() { started.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("not every task started while the others ran")
	}
	close(release)
	done.Wait()
}

func TestWorkersAreReused(t *testing.T) {
	p := New()
	var ran atomic.Int64
	base := runtime.NumGoroutine()
	for range 1000 {
		var wg sync.WaitGroup
		wg.Add(1)
		p.Go(func() { ran.Add(1); wg.Done() })
		wg.Wait()
	}
	if ran.Load() != 1000 {
		t.Fatalf("ran %d tasks, want 1000", ran.Load())
	}
	// One at a time: a handful of workers at most, not one per task.
	if g := runtime.NumGoroutine() - base; g > 5 {
		t.Errorf("%d more goroutines after 1000 tasks one after the other, want a few", g)
	}
}

func TestIdleWorkersEnd(t *testing.T) {
	p := &Pool{tasks: make(chan func()), idle: 20 * time.Millisecond}
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		p.Go(func() { time.Sleep(time.Millisecond); wg.Done() })
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still there after 10 s idle", runtime.NumGoroutine()-base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
