package logging

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

// Sender hands one record to the journal: journal.Send, or a stand-in in
// tests (journald is not part of Bab).
type Sender func(message string, priority journal.Priority, fields map[string]string) error

// JournalHandler is a slog.Handler writing each record to the journal as
// one entry: the message as MESSAGE, the level as PRIORITY, and every
// attribute as a field of its own (request_id becomes REQUEST_ID, a group
// g's attribute k becomes G_K), so that `journalctl -u bab
// REQUEST_ID=…` finds a request. When the journal refuses a record it is
// written as text to the fallback writer instead, so nothing is lost.
type JournalHandler struct {
	ident    string
	level    slog.Leveler
	send     Sender
	fallback slog.Handler
	prefix   string      // field-name prefix of the open groups, "G_"
	fields   []fieldAttr // from WithAttrs, already named
}

type fieldAttr struct{ name, value string }

// NewJournalHandler returns a handler sending records at level and above
// through send, with SYSLOG_IDENTIFIER=ident, and falling back to text on
// fallback.
func NewJournalHandler(ident string, level slog.Leveler, send Sender, fallback io.Writer) *JournalHandler {
	return &JournalHandler{ident: ident, level: level, send: send,
		fallback: slog.NewTextHandler(fallback, &slog.HandlerOptions{Level: level})}
}

// Enabled implements slog.Handler.
func (h *JournalHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle implements slog.Handler.
func (h *JournalHandler) Handle(ctx context.Context, r slog.Record) error {
	fields := make(map[string]string, 2+len(h.fields)+r.NumAttrs())
	fields["SYSLOG_IDENTIFIER"] = h.ident
	for _, f := range h.fields {
		fields[f.name] = f.value
	}
	r.Attrs(func(a slog.Attr) bool {
		addField(fields, h.prefix, a)
		return true
	})
	if err := h.send(r.Message, priority(r.Level), fields); err != nil {
		return h.fallback.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h *JournalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.fallback = h.fallback.WithAttrs(as)
	m := map[string]string{}
	for _, a := range as {
		addField(m, h.prefix, a)
	}
	c.fields = slices.Clip(h.fields)
	for name, v := range m {
		c.fields = append(c.fields, fieldAttr{name, v})
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *JournalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.fallback = h.fallback.WithGroup(name)
	c.prefix = h.prefix + fieldName(name) + "_"
	return &c
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l < slog.LevelInfo:
		return journal.PriDebug
	case l < slog.LevelWarn:
		return journal.PriInfo
	case l < slog.LevelError:
		return journal.PriWarning
	default:
		return journal.PriErr
	}
}

// reserved are fields the journal or this handler sets itself; an
// attribute of the same name is kept under BAB_ instead of replacing them.
var reserved = map[string]bool{"MESSAGE": true, "PRIORITY": true, "SYSLOG_IDENTIFIER": true, "SYSLOG_FACILITY": true,
	"SYSLOG_PID": true, "MESSAGE_ID": true, "CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true, "ERRNO": true}

func addField(fields map[string]string, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += fieldName(a.Key) + "_"
		}
		for _, g := range a.Value.Group() {
			addField(fields, p, g)
		}
		return
	}
	name := prefix + fieldName(a.Key)
	if reserved[name] {
		name = "BAB_" + name
	}
	var v string
	switch a.Value.Kind() {
	case slog.KindTime:
		v = a.Value.Time().Format(time.RFC3339Nano)
	default:
		v = a.Value.String()
	}
	fields[name] = v
}

// fieldName turns an attribute key into a journal field name: upper-case
// letters, digits and underscores, not starting with an underscore (those
// are the journal's trusted fields), at most 64 characters.
func fieldName(key string) string {
	var b strings.Builder
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "F_" + s
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
