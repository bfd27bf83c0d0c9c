package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gogc reads the GOGC value in force.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// awaitGOGC collects until GOGC satisfies ok, for at most 5 s: the tuner
// runs on the finalizer goroutine after the cycle.
func awaitGOGC(t *testing.T, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		if g := gogc(); ok(g) {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GOGC stayed %d", gogc())
	return 0
}

var keep [][]byte

func TestRoomFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	const room = 64 << 20
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	stop := Start(room)
	// A small live heap: the heap may grow by room, far more than 100 %.
	small := awaitGOGC(t, func(g int) bool { return g > 300 })
	t.Logf("GOGC with a small live heap: %d", small)

	// A live heap twice room: collected as by default.
	for range 2 * room / (1 << 20) {
		keep = append(keep, make([]byte, 1<<20))
	}
	awaitGOGC(t, func(g int) bool { return g == 100 })

	// Garbage again: the room comes back.
	keep = nil
	awaitGOGC(t, func(g int) bool { return g > 300 })

	// Idle: collections far apart, the default again.
	time.Sleep(busyEvery + 100*time.Millisecond)
	runtime.GC()
	for deadline := time.Now().Add(5 * time.Second); gogc() != 100; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("idle: GOGC stayed %d", gogc())
		}
	}

	stop()
	if g := gogc(); g != 100 {
		t.Errorf("after stop GOGC = %d, want the 100 from before", g)
	}
}

func TestOperatorsSettingKept(t *testing.T) {
	t.Setenv("GOGC", "50")
	before := debug.SetGCPercent(50)
	defer debug.SetGCPercent(before)
	stop := Start(DefaultRoom)
	defer stop()
	for range 3 {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	if g := gogc(); g != 50 {
		t.Errorf("GOGC = %d with GOGC=50 in the environment, want 50", g)
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		live, room uint64
		want       int
	}{
		{0, 16 << 20, 400},
		{1 << 10, 16 << 20, 400},
		{4 << 20, 16 << 20, 400},
		{2 << 20, 64 << 20, 1600},
		{16 << 20, 16 << 20, 100},
		{64 << 20, 16 << 20, 100},
	} {
		if got := Percent(tc.live, tc.room); got != tc.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.room, got, tc.want)
		}
	}
}
