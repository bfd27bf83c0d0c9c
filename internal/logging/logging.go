// Package logging builds the slog loggers both daemons use: records go to
// the journal with their attributes as fields when the daemon runs as a
// systemd service, and as text on stderr otherwise; one logger per
// subsystem (subsys=tunnel, subsys=gateway, …).
package logging

import (
	"io"
	"log/slog"
	"os"

	"github.com/coreos/go-systemd/v22/journal"
)

// New returns a logger writing text records at level and above to w.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// ForDaemon returns the logger of a daemon named ident (bab,
// bab-exchange): the journal when stderr is the process's own stderr and
// systemd connected it to the journal, text on stderr otherwise (a
// terminal, a test, a container without journald).
func ForDaemon(ident string, stderr io.Writer, level slog.Level) *slog.Logger {
	if stderr == os.Stderr {
		if ok, err := journal.StderrIsJournalStream(); ok && err == nil && journal.Enabled() {
			return slog.New(NewJournalHandler(ident, level, journal.Send, stderr))
		}
	}
	return New(stderr, level)
}
