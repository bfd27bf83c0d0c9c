package tunnel

import (
	"fmt"
	"testing"
	"time"
)

// ceiling is min(Max, Min·2ⁿ), computed without overflow.
func ceiling(b Backoff, n int) time.Duration {
	c := b.Min
	for range n {
		if c >= b.Max {
			return b.Max
		}
		c *= 2
	}
	return min(c, b.Max)
}

var backoffs = []Backoff{
	{Min: 250 * time.Millisecond, Max: 30 * time.Second}, // the tunnel's default
	{Min: time.Millisecond, Max: time.Hour},
	{Min: 3 * time.Second, Max: 5 * time.Second},
	{Min: time.Second, Max: time.Second},
}

// TestBackoffBounds draws many waits in a row and checks each against its
// attempt's ceiling.
func TestBackoffBounds(t *testing.T) {
	for _, b := range backoffs {
		t.Run(fmt.Sprintf("%v-%v", b.Min, b.Max), func(t *testing.T) {
			for round := range 50 {
				b.Reset()
				for n := range 80 { // far past the shift where Min·2ⁿ overflows
					got := b.Next()
					if c := ceiling(b, n); got < 0 || got > c {
						t.Fatalf("round %d, attempt %d: Next() = %v, want within [0, %v]", round, n, got, c)
					}
				}
			}
		})
	}
}

// drawAt draws the wait for attempt n, draws times, and returns the
// smallest and the largest.
func drawAt(b Backoff, n, draws int) (lo, hi time.Duration) {
	lo = b.Max + 1
	for range draws {
		b.attempt = n
		d := b.Next()
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, hi
}

// TestBackoffReachesMax checks that the ceiling grows to Max and stays
// there: late attempts still draw waits close to Max, never above.
func TestBackoffReachesMax(t *testing.T) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	for _, n := range []int{7, 8, 20, 31, 62, 1000} { // 250ms·2⁷ = 32s is the first capped attempt
		_, hi := drawAt(b, n, 500)
		if hi > b.Max || hi < b.Max*9/10 {
			t.Errorf("attempt %d: largest of 500 waits is %v, want in [%v, %v]", n, hi, b.Max*9/10, b.Max)
		}
	}
	// Before the cap the ceiling doubles: attempt 2 stays at or under 1s.
	if _, hi := drawAt(b, 2, 500); hi > time.Second {
		t.Errorf("attempt 2: a wait of %v exceeds 250ms·2² = 1s", hi)
	}
}

// TestBackoffJitter checks full jitter: at one attempt the waits spread
// over the whole range, so appliances that lost the exchange together do
// not come back together. Without jitter every draw would be the ceiling.
func TestBackoffJitter(t *testing.T) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	const n, draws = 4, 2000 // ceiling 4s
	c := ceiling(b, n)
	var low, high int
	seen := map[time.Duration]bool{}
	for range draws {
		b.attempt = n
		d := b.Next()
		if d < c/4 {
			low++
		}
		if d > c*3/4 {
			high++
		}
		seen[d] = true
	}
	// Each quarter should get about 500 draws; 300 leaves room for chance
	// (a binomial deviation that large has odds far below one in a million).
	if low < 300 || high < 300 {
		t.Errorf("of %d waits at ceiling %v, %d were under a quarter and %d over three quarters; want at least 300 of each", draws, c, low, high)
	}
	if len(seen) < draws/2 {
		t.Errorf("only %d distinct waits in %d draws", len(seen), draws)
	}
}

func TestBackoffReset(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Minute}
	for range 20 {
		b.Next()
	}
	stale := b
	b.Reset()
	// Backoff is a value: each copy draws the same attempt's wait. Right
	// after Reset that is the first attempt's, at most Min; without the
	// Reset the ceiling would be a minute.
	var staleOver int
	for range 200 {
		fresh, old := b, stale
		if d := fresh.Next(); d > b.Min {
			t.Fatalf("first wait after Reset is %v, want at most %v", d, b.Min)
		}
		if old.Next() > b.Min {
			staleOver++
		}
	}
	if staleOver == 0 {
		t.Fatal("without Reset no wait exceeded Min either; the check above proves nothing")
	}
	// And the ceiling grows again from there.
	b.Next()
	if _, hi := drawAt(b, b.attempt, 500); hi <= b.Min || hi > 2*b.Min {
		t.Errorf("second attempt after Reset: largest of 500 waits is %v, want in (%v, %v]", hi, b.Min, 2*b.Min)
	}
}
