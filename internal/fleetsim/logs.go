package fleetsim

import (
	"context"
	"log/slog"
	"maps"
	"sync"
)

// Counter is the simulated appliances' log: records below warning level
// are dropped, the rest are counted and the last error kept, so that a run
// can report trouble without printing a thousand appliances' logs.
type Counter struct {
	mu        sync.Mutex
	warnings  int
	errors    int
	lastError string
	warned    map[string]int // warning messages by count
}

// Logger returns a logger that feeds the counter.
func (c *Counter) Logger() *slog.Logger { return slog.New(counterHandler{c}) }

// Counts returns how many warnings and errors were logged, and the last
// error's message.
func (c *Counter) Counts() (warnings, errors int, lastError string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.warnings, c.errors, c.lastError
}

// Warned returns the warning messages (up to 100 distinct ones) with how
// often each was logged.
func (c *Counter) Warned() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.warned)
}

func (c *Counter) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors++
	c.lastError = err.Error()
}

type counterHandler struct{ c *Counter }

func (h counterHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h counterHandler) Handle(_ context.Context, r slog.Record) error {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	if r.Level < slog.LevelError {
		h.c.warnings++
		if h.c.warned == nil {
			h.c.warned = map[string]int{}
		}
		if _, seen := h.c.warned[r.Message]; seen || len(h.c.warned) < 100 {
			h.c.warned[r.Message]++
		}
		return nil
	}
	h.c.errors++
	h.c.lastError = r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			h.c.lastError += ": " + a.Value.String()
		}
		return true
	})
	return nil
}

func (h counterHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h counterHandler) WithGroup(string) slog.Handler      { return h }
