package seal

import "sync"

// windowSize is how far behind the highest request number seen a number
// may still arrive: requests run concurrently on separate streams, so they
// need not arrive in order, but a number further behind is refused.
const windowSize = 4096

// window remembers which request numbers of a session were taken, as
// IPsec's anti-replay window does: the highest seen and a bitmap of the
// windowSize numbers below it.
type window struct {
	mu   sync.Mutex
	top  uint64
	bits [windowSize / 64]uint64
}

// admit takes seq once; it refuses 0, a number taken before and one too
// far behind.
func (w *window) admit(seq uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq == 0 {
		return false
	}
	if seq > w.top {
		w.slide(seq - w.top)
		w.top = seq
		w.set(seq)
		return true
	}
	if w.top-seq >= windowSize {
		return false
	}
	if w.has(seq) {
		return false
	}
	w.set(seq)
	return true
}

// slide forgets the numbers that fall out of the window as the top moves
// up by n.
func (w *window) slide(n uint64) {
	if n >= windowSize {
		clear(w.bits[:])
		return
	}
	for i := uint64(1); i <= n; i++ {
		w.clear(w.top + i)
	}
}

func (w *window) index(seq uint64) (int, uint64) {
	i := seq % windowSize
	return int(i / 64), 1 << (i % 64)
}

func (w *window) set(seq uint64)   { i, m := w.index(seq); w.bits[i] |= m }
func (w *window) clear(seq uint64) { i, m := w.index(seq); w.bits[i] &^= m }
func (w *window) has(seq uint64) bool {
	i, m := w.index(seq)
	return w.bits[i]&m != 0
}
