// Package loudskip is how a test says that this machine cannot run it (no
// root, no TPM, no container support): the reason goes into the test's
// output, marked so it stands out, and into the file named by BAB_SKIP_LOG,
// which scripts/test prints as a summary after all tests, so that a run
// that covered less than it seems says so where people look.
package loudskip

import (
	"fmt"
	"os"
	"testing"
)

// EnvLog names the file skips are appended to, one line each.
const EnvLog = "BAB_SKIP_LOG"

// Skip skips t with the reason, loudly.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if path := os.Getenv(EnvLog); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintf(f, "%s: %s\n", t.Name(), oneLine(msg))
			f.Close()
		}
	}
	t.Skip("SKIPPED LOUDLY (this machine cannot run it): " + msg)
}

// oneLine keeps the first line of a reason for the summary.
func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
