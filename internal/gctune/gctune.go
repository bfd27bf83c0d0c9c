// Package gctune lets a daemon whose live heap is small run the garbage
// collector less often.
//
// The collector starts a cycle when the heap has grown by GOGC percent of
// what the last cycle found live. A daemon that carries thousands of small
// requests a second with a few megabytes live therefore collects many
// times a second, and on a small server that was an eighth of its CPU.
// Start keeps at least a fixed room for growth instead while the daemon is
// busy (collections less than busyEvery apart): after every cycle it sets
// GOGC to max(100, 100 × room / live), so that a heap of 4 MB live may
// grow by room rather than by 4 MB, and a heap larger than room (an
// exchange with many tunnels) is collected exactly as by default. What
// this costs is at most room more memory under load. An idle daemon
// collects as by default, so its memory stays what it was.
//
// An operator who sets GOGC or GOMEMLIMIT in the daemon's environment
// keeps their setting: Start then does nothing.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// DefaultRoom is the growth the daemons allow their heap between two
// collections, at the least.
const DefaultRoom = 16 << 20

// liveMetric is the heap the last cycle found live.
const liveMetric = "/gc/heap/live:bytes"

// busyEvery: collections closer together than this mean the daemon is
// busy allocating, and the room pays.
const busyEvery = time.Second

// minHeap is the runtime's smallest heap goal at GOGC 100; it scales with
// GOGC, so a GOGC computed from a smaller live heap would allow more than
// room.
const minHeap = 4 << 20

// Start tunes GOGC after every collection until stop is called, which
// gives GOGC back its value from before. It does nothing when GOGC or
// GOMEMLIMIT is in the environment, or room is 0.
func Start(room uint64) (stop func()) {
	if room == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	t := &tuner{room: room, sample: []metrics.Sample{{Name: liveMetric}}}
	t.before = debug.SetGCPercent(100)
	t.current = 100
	t.adjust()
	t.arm()
	return t.stop
}

// Percent is the GOGC value for a heap of live bytes with room to grow.
func Percent(live, room uint64) int {
	return max(100, int(100*room/max(live, minHeap)))
}

type tuner struct {
	room    uint64
	sample  []metrics.Sample // used by the finalizer goroutine only
	before  int
	current int       // set by the finalizer goroutine only, after Start
	last    time.Time // when adjust last ran
	stopped atomic.Bool
}

// sentinel is garbage whose finalizer runs after the cycle that finds it
// unreachable; each run arms a new one. It holds a pointer so that it is
// not placed in the allocator's tiny blocks, whose finalizers may never
// run.
type sentinel struct{ t *tuner }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{t: t}, func(s *sentinel) {
		if s.t.stopped.Load() {
			return
		}
		s.t.adjust()
		s.t.arm()
	})
}

// adjust sets GOGC from the live heap the last cycle measured while
// collections come quickly, and back to 100 when they do not, when that
// differs by more than a tenth from the value in force.
func (t *tuner) adjust() {
	now := time.Now()
	busy := now.Sub(t.last) < busyEvery
	t.last = now
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := 100
	if busy {
		p = Percent(t.sample[0].Value.Uint64(), t.room)
	}
	if p*10 < t.current*9 || p*10 > t.current*11 {
		debug.SetGCPercent(p)
		t.current = p
	}
}

func (t *tuner) stop() {
	if t.stopped.CompareAndSwap(false, true) {
		debug.SetGCPercent(t.before)
	}
}
