package console

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/problem"
)

// socketServer serves h on a Unix socket in a temporary directory and
// returns a client for it.
func socketServer(t *testing.T, h http.Handler) *Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "bab-console-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "console.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := DialSocket(path)
	if err != nil {
		t.Fatalf("DialSocket: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestClientSocket(t *testing.T) {
	var gotQuery, gotHost, gotUser string
	var gotLookup LookupRequest
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotUser = r.Host, r.Header.Get(HeaderUser)
		_ = json.NewEncoder(w).Encode(Status{Connected: true, PolicyVersion: 7})
	})
	mux.HandleFunc("GET "+PathActivity, func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		_ = json.NewEncoder(w).Encode([]Activity{{Service: "s", Outcome: "ok"}})
	})
	mux.HandleFunc("POST "+PathLookup, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&gotLookup)
		p := problem.New(problem.ProviderOffline, "MA/GOV/ETATCIVIL has no tunnel")
		p.RequestID = "r-1"
		problem.Write(w, p, 30*time.Second)
	})
	mux.HandleFunc("GET "+PathOffice, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	})
	mux.HandleFunc("POST "+PathRevoke, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	c := socketServer(t, mux)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || !st.Connected || st.PolicyVersion != 7 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if gotHost != SocketHost || gotUser != "" || !c.Local() {
		t.Errorf("on the socket: Host %q, %s %q; want Host %q and no user header", gotHost, HeaderUser, gotUser, SocketHost)
	}

	a, err := c.Activity(ctx, ActivityFilter{Direction: "out", Service: "MA/GOV/X/civil status"})
	if err != nil || len(a) != 1 {
		t.Fatalf("Activity = %v, %v", a, err)
	}
	if gotQuery != "direction=out&service=MA%2FGOV%2FX%2Fcivil+status" {
		t.Errorf("activity query %q", gotQuery)
	}

	_, err = c.Lookup(ctx, LookupRequest{Service: "MA/GOV/ETATCIVIL/cs", Path: "/citizens/{id}", Params: map[string]string{"id": "42"}, Purpose: "benefit"})
	var pe *ProblemError
	if !errors.As(err, &pe) {
		t.Fatalf("Lookup = %v, want a *ProblemError", err)
	}
	if pe.Code() != problem.ProviderOffline || pe.Status != 503 || pe.RetryAfter != 30*time.Second || pe.Problem.RequestID != "r-1" {
		t.Errorf("problem = %+v", pe)
	}
	if gotLookup.Params["id"] != "42" || gotLookup.Purpose != "benefit" {
		t.Errorf("the appliance got %+v", gotLookup)
	}

	_, err = c.Office(ctx)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 404 || !strings.Contains(se.Text, "not here") {
		t.Errorf("Office = %v, want a *StatusError 404", err)
	}
	if err := c.Revoke(ctx, "desk-3"); err != nil {
		t.Errorf("Revoke: %v", err)
	}
}

func TestClientTooLarge(t *testing.T) {
	c := socketServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`["`))
		w.Write([]byte(strings.Repeat("x", maxAnswer)))
		w.Write([]byte(`"]`))
	}))
	if _, err := c.Catalog(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Catalog = %v, want ErrTooLarge", err)
	}
}

func TestDialSocket(t *testing.T) {
	dir := t.TempDir()
	if _, err := DialSocket(filepath.Join(dir, "absent.sock")); !errors.Is(err, ErrNoSocket) {
		t.Errorf("absent socket: %v, want ErrNoSocket", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := DialSocket(file); err == nil || errors.Is(err, ErrNoSocket) {
		t.Errorf("a plain file: %v, want an error other than ErrNoSocket", err)
	}
	if os.Geteuid() == 0 {
		return // root opens any socket
	}
	sock := filepath.Join(dir, "closed.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(sock, 0)
	if _, err := DialSocket(sock); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("a socket this account may not open: %v, want fs.ErrPermission", err)
	}
}

func TestDialHTTPSRefusesOtherSchemes(t *testing.T) {
	for _, u := range []string{"http://host:8443", "host:8443", "https://", "https://user@host:1"} {
		if _, err := DialHTTPS(u, "c", "k", "ca"); err == nil {
			t.Errorf("DialHTTPS(%q) accepted", u)
		}
	}
}
