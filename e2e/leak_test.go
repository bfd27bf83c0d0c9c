package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestBackendErrorsStayWithTheProvider: when the provider's backend fails,
// the calling administration gets a typed problem and the request id, and
// nothing of the provider's network: not the backend's address or port, not
// its internal path, not the query the caller sent echoed in an error. The
// provider's own log has the details.
func TestBackendErrorsStayWithTheProvider(t *testing.T) {
	port, err := lab.FreeTCPPort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, lab.Options{BackendURL: fmt.Sprintf("http://127.0.0.1:%d/internal/registry-v2", port)})
	resp, body := do(t, l, "GET", "/citizens/42?cin=AB123456", nil, nil)
	p := wantProblem(t, resp, body, problem.BackendUnreachable, "provider")
	for _, secret := range []string{strconv.Itoa(port), "127.0.0.1", "registry-v2", "AB123456", "refused", "dial"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the caller's problem names %q of the provider's internals: %s", secret, body)
		}
	}
	if p.RequestID == "" || !strings.Contains(p.Detail, p.RequestID) {
		t.Errorf("the problem does not give the request id to look up: %s", body)
	}
	waitFor(t, 10*time.Second, func() error {
		log := l.Provider.Log()
		if !strings.Contains(log, p.RequestID) || !strings.Contains(log, "registry-v2") {
			return errString("the provider's log does not have the backend's error for request " + p.RequestID)
		}
		return nil
	})
}
