package exchange

import (
	"testing"
	"time"
)

// TestHandshakeGate: a burst of as many handshakes as the rate passes,
// the next is refused, and the bucket fills again with time, never
// beyond one second's worth.
func TestHandshakeGate(t *testing.T) {
	g := newHandshakeGate(10)
	now := time.Now()
	for i := range 10 {
		if !g.allow(now) {
			t.Fatalf("handshake %d of a burst of 10 refused", i+1)
		}
	}
	if g.allow(now) {
		t.Fatal("an 11th handshake in the same instant passed")
	}
	if !g.allow(now.Add(100*time.Millisecond)) || g.allow(now.Add(100*time.Millisecond)) {
		t.Error("after 100 ms at 10/s, want exactly one more")
	}
	later := now.Add(time.Hour)
	n := 0
	for g.allow(later) {
		n++
	}
	if n != 10 {
		t.Errorf("after an hour, %d handshakes passed at once, want 10 (the bucket holds one second)", n)
	}
}
