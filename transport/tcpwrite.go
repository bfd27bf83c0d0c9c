package transport

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// writeBehind is the connection as yamux writes to it: yamux writes each
// frame on its own, which over TLS is a record and a system call per
// frame (a profile of the exchange found a third of its CPU there). A
// write is copied and handed to a goroutine that writes what gathered
// meanwhile in one call, so that frames queued behind a write go out
// together, with no added wait. A write error is returned by the next
// write.
type writeBehind struct {
	net.Conn
	mu      sync.Mutex
	cond    sync.Cond
	pending []byte
	spare   []byte
	busy    bool // a write is under way
	err     error
	closed  bool
	// received counts the bytes read: what the liveness watch of a
	// tunnel takes as proof that the path carries (Received).
	received atomic.Uint64
}

// Read reads from the connection, counting what arrives.
func (w *writeBehind) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.received.Add(uint64(n))
	return n, err
}

// maxPending bounds what may wait: past it, writes wait for the writer.
const maxPending = 512 << 10

func newWriteBehind(c net.Conn) *writeBehind {
	w := &writeBehind{Conn: c}
	w.cond.L = &w.mu
	go w.run()
	return w
}

func (w *writeBehind) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.pending) >= maxPending && w.err == nil && !w.closed {
		w.cond.Wait()
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, net.ErrClosed
	}
	w.pending = append(w.pending, p...)
	w.cond.Broadcast()
	return len(p), nil
}

func (w *writeBehind) run() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.pending) == 0 && !w.closed {
			w.cond.Wait()
		}
		if len(w.pending) == 0 {
			return // closed, all written
		}
		out := w.pending
		w.pending, w.busy = w.spare[:0], true
		w.mu.Unlock()
		_, err := w.Conn.Write(out)
		w.mu.Lock()
		w.spare, w.busy = out, false
		if err != nil && w.err == nil {
			w.err = err
		}
		w.cond.Broadcast()
		if w.err != nil {
			w.pending = nil
			return
		}
	}
}

// Close writes what waits (for a moment at most: the peer may be gone)
// and closes the connection.
func (w *writeBehind) Close() error {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	deadline := time.Now().Add(time.Second)
	for (len(w.pending) > 0 || w.busy) && w.err == nil && time.Now().Before(deadline) {
		w.mu.Unlock()
		time.Sleep(time.Millisecond)
		w.mu.Lock()
	}
	w.mu.Unlock()
	return w.Conn.Close()
}
