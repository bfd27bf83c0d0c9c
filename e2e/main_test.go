package e2e

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"github.com/babgate/bab/policy"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// binDir holds bab and bab-exchange, built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bab-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := lab.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newLab starts a federation for one test and stops it when the test ends;
// a failed test gets the processes' logs.
func newLab(t *testing.T, o lab.Options) *lab.Lab {
	t.Helper()
	o.Dir = t.TempDir()
	o.BinDir = binDir
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, o)
	if err != nil {
		dumpLogs(t, o.Dir)
		t.Fatalf("start lab: %v", err)
	}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			dumpLogs(t, o.Dir)
		}
	})
	return l
}

func dumpLogs(t *testing.T, dir string) {
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".log") {
			b, _ := os.ReadFile(p)
			s := string(b)
			if len(s) > 6000 {
				s = "…" + s[len(s)-6000:]
			}
			t.Logf("==== %s\n%s", p, s)
		}
		return nil
	})
}

// do sends a request through the lab's consumer gateway and returns the
// status and the whole body.
func do(t *testing.T, l *lab.Lab, method, path string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := l.Request(ctx, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// getJSON reads from the exchange's admin API.
func getJSON(l *lab.Lab, path string, out any) error { return l.Exchange.Call("GET", path, nil, out) }

// pushBundle signs b with key and pushes it as ops would.
func pushBundle(l *lab.Lab, b *policy.Bundle, key ed25519.PrivateKey) error {
	s, err := policy.Sign(b, key)
	if err != nil {
		return err
	}
	raw, err := s.Marshal()
	if err != nil {
		return err
	}
	return l.Exchange.Call("POST", "/v1/policy", raw, nil)
}
