package tunnel

import "sync"

// Gate is shared by the lanes of one exchange address (Config.Gate): a
// lane that connects opens it, which wakes the lanes that wait for the
// path to come back, so that only one of them probes it often.
type Gate struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewGate makes a closed gate.
func NewGate() *Gate { return &Gate{ch: make(chan struct{})} }

// wait is closed the next time a lane connects.
func (g *Gate) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ch
}

// open wakes the lanes waiting, and closes again behind them.
func (g *Gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.ch)
	g.ch = make(chan struct{})
}
