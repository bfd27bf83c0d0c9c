//go:build babtap

package exchange

import (
	"os"
	"sync"
)

// A test build taps what it relays into the file BAB_TAP_FILE names.
func init() {
	p := os.Getenv("BAB_TAP_FILE")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		panic("babtap: " + err.Error())
	}
	tap = &lockedFile{f: f}
}

type lockedFile struct {
	mu sync.Mutex
	f  *os.File
}

func (l *lockedFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}
