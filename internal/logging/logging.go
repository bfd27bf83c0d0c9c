// Package logging builds the slog loggers both daemons use: text on stderr,
// one logger per subsystem (subsys=tunnel, subsys=gateway, …).
package logging

import (
	"io"
	"log/slog"
)

// New returns a logger writing text records at level and above to w.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
