package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Bounds of what the appliance keeps of its recent problems for bab status:
// enough to say what went wrong lately, small enough to cost nothing.
const (
	recentRecords = 10  // records kept, the oldest dropped first
	recentAttrs   = 8   // attributes kept per record
	recentValue   = 200 // bytes kept of a message or a value
)

// LogRecord is one warning or error the appliance logged, as bab status
// shows it: the message and a few attributes, never a request's payload
// (the appliance never logs one, and byte-slice values are dropped here).
type LogRecord struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	Attrs   []LogAttr `json:"attrs,omitempty"`
}

// LogAttr is one attribute of a LogRecord, its value as text.
type LogAttr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// recentLog keeps the last recentRecords warnings and errors in a ring.
type recentLog struct {
	mu   sync.Mutex
	ring [recentRecords]LogRecord
	next int // where the next record goes
	n    int // how many are held
}

func (l *recentLog) add(r LogRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = r
	l.next = (l.next + 1) % len(l.ring)
	l.n = min(l.n+1, len(l.ring))
}

// records returns the records held, oldest first.
func (l *recentLog) records() []LogRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LogRecord, 0, l.n)
	for i := range l.n {
		out = append(out, l.ring[(l.next-l.n+i+len(l.ring))%len(l.ring)])
	}
	return out
}

// handler wraps next so that every record at warning level and above is
// also kept here, even when next's level leaves warnings out. Records
// below that level cost one comparison more.
func (l *recentLog) handler(next slog.Handler) slog.Handler {
	return &recentHandler{next: next, log: l}
}

type recentHandler struct {
	next   slog.Handler
	log    *recentLog
	attrs  []LogAttr // from WithAttrs, formatted already
	prefix string    // the open groups, "g."
}

func (h *recentHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *recentHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		rec := LogRecord{Time: r.Time, Level: r.Level.String(), Message: cut(r.Message)}
		rec.Attrs = slices.Clone(h.attrs[:min(len(h.attrs), recentAttrs)])
		r.Attrs(func(a slog.Attr) bool {
			rec.Attrs = appendAttr(rec.Attrs, h.prefix, a)
			return len(rec.Attrs) < recentAttrs
		})
		h.log.add(rec)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *recentHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.attrs = slices.Clip(h.attrs)
	for _, a := range as {
		c.attrs = appendAttr(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *recentHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.prefix = h.prefix + name + "."
	return &c
}

// appendAttr adds a as text, groups flattened to "g.k", unless the record
// is full or the value is raw bytes.
func appendAttr(to []LogAttr, prefix string, a slog.Attr) []LogAttr {
	if len(to) >= recentAttrs {
		return to
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			to = appendAttr(to, p, g)
		}
		return to
	case slog.KindAny:
		if _, raw := v.Any().([]byte); raw {
			return to
		}
		return append(to, LogAttr{Key: prefix + a.Key, Value: cut(fmt.Sprint(v.Any()))})
	}
	if a.Key == "" {
		return to
	}
	return append(to, LogAttr{Key: prefix + a.Key, Value: cut(v.String())})
}

// cut keeps the first recentValue bytes of s, on a rune boundary.
func cut(s string) string {
	if len(s) <= recentValue {
		return s
	}
	i := recentValue
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
