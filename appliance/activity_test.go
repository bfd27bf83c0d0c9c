package appliance

import (
	"testing"
	"time"

	"github.com/babgate/bab/console"
)

// The ring keeps the last activitySize exchanges, newest first, and the
// filter sees every one of them.
func TestActivityRing(t *testing.T) {
	var l activityLog
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range activitySize + 10 {
		dir := "out"
		if i%2 == 1 {
			dir = "in"
		}
		l.add(&console.Activity{At: t0.Add(time.Duration(i) * time.Second), Direction: dir, RequestID: string(rune('a' + i%26))})
	}
	all := l.list(func(*console.Activity) bool { return true })
	if len(all) != activitySize {
		t.Fatalf("%d kept, want %d", len(all), activitySize)
	}
	if !all[0].At.Equal(t0.Add((activitySize+9)*time.Second)) || !all[len(all)-1].At.Equal(t0.Add(10*time.Second)) {
		t.Errorf("newest %s, oldest %s: want the last %d, newest first", all[0].At, all[len(all)-1].At, activitySize)
	}
	in := l.list(func(a *console.Activity) bool { return a.Direction == "in" })
	if len(in) != activitySize/2 {
		t.Errorf("%d incoming, want %d", len(in), activitySize/2)
	}
}
