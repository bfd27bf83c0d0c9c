package console

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/babgate/bab/problem"
)

// pairingServer is an appliance's console HTTPS address that pairs
// consoles presenting code and then answers whoami for them.
func pairingServer(t *testing.T, ca *testCA, code string) *httptest.Server {
	t.Helper()
	secret, _, err := SplitCode(code)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathPair, func(w http.ResponseWriter, r *http.Request) {
		var req PairRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			problem.Write(w, problem.New(problem.BadRequest, err.Error()), 0)
			return
		}
		got, _, err := SplitCode(req.Code)
		if err != nil || got != secret {
			problem.Write(w, problem.New(problem.Unauthenticated, "wrong or expired pairing code"), 0)
			return
		}
		csr, err := x509.ParseCertificateRequest(req.CSR)
		if err != nil || csr.CheckSignature() != nil {
			problem.Write(w, problem.New(problem.BadRequest, "bad certificate request"), 0)
			return
		}
		leaf := ca.issue(t, csr.PublicKey, req.Name, nil, x509.ExtKeyUsageClientAuth)
		_ = json.NewEncoder(w).Encode(PairResponse{Chain: [][]byte{leaf}, CA: ca.cert.Raw, Role: RoleClerk, Appliance: "MA/GOV/COMMUNE-X/bab-1"})
	})
	mux.HandleFunc("GET "+PathWhoAmI, func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			problem.Write(w, problem.New(problem.Unauthenticated, "no client certificate"), 0)
			return
		}
		_ = json.NewEncoder(w).Encode(WhoAmI{User: r.Header.Get(HeaderUser), Console: r.TLS.PeerCertificates[0].Subject.CommonName, Role: RoleClerk})
	})
	srv := httptest.NewUnstartedServer(mux)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.serverCert(t)}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refusals below are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestPair(t *testing.T) {
	ca := newTestCA(t)
	code := NewCode(ca.cert.RawSubjectPublicKeyInfo)
	srv := pairingServer(t, ca, code)
	dir := filepath.Join(t.TempDir(), "bab-console")

	if _, err := LoadPairing(dir); !errors.Is(err, ErrNotPaired) {
		t.Fatalf("LoadPairing before pairing: %v, want ErrNotPaired", err)
	}
	p, err := Pair(context.Background(), srv.URL, strings.ToLower(code), "desk-3", dir)
	if err != nil {
		t.Fatalf("Pair: %v", err)
	}
	if p.Role != RoleClerk || p.Appliance != "MA/GOV/COMMUNE-X/bab-1" || p.Name != "desk-3" {
		t.Errorf("Pair = %+v", p)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the directory, want 4 (no temporary file left)", len(entries))
	}

	loaded, err := LoadPairing(dir)
	if err != nil {
		t.Fatalf("LoadPairing: %v", err)
	}
	c, err := loaded.Dial()
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	w, err := c.WhoAmI(context.Background())
	if err != nil {
		t.Fatalf("WhoAmI with the paired certificate: %v", err)
	}
	if w.Console != "desk-3" || w.User == "" {
		t.Errorf("WhoAmI = %+v, want console desk-3 and the desktop account", w)
	}
}

func TestPairRefusals(t *testing.T) {
	ca := newTestCA(t)
	code := NewCode(ca.cert.RawSubjectPublicKeyInfo)
	srv := pairingServer(t, ca, code)
	other := NewCode(newTestCA(t).cert.RawSubjectPublicKeyInfo)
	secret, fp, _ := SplitCode(code)
	wrongSecret := groupCode(strings.Repeat("A", len(secret)) + fp)
	if wrongSecret == code {
		t.Skip("the random secret was all A")
	}

	t.Run("another CA's fingerprint", func(t *testing.T) {
		_, err := Pair(context.Background(), srv.URL, other, "desk", t.TempDir())
		if !errors.Is(err, ErrWrongAppliance) {
			t.Errorf("Pair = %v, want ErrWrongAppliance", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Pair(context.Background(), srv.URL, wrongSecret, "desk", dir)
		var pe *ProblemError
		if !errors.As(err, &pe) || pe.Code() != problem.Unauthenticated || pe.Status != http.StatusUnauthorized {
			t.Errorf("Pair = %v, want an unauthenticated problem", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a refused pairing left %d files", len(entries))
		}
	})
	t.Run("host the certificate does not name", func(t *testing.T) {
		url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		_, err := Pair(context.Background(), url, code, "desk", t.TempDir())
		if !errors.Is(err, ErrWrongAddress) || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Pair = %v, want ErrWrongAddress naming the certificate's address", err)
		}
	})
	t.Run("not a code", func(t *testing.T) {
		_, err := Pair(context.Background(), srv.URL, "1234", "desk", t.TempDir())
		if !errors.Is(err, ErrBadCode) {
			t.Errorf("Pair = %v, want ErrBadCode", err)
		}
	})
	t.Run("not https", func(t *testing.T) {
		_, err := Pair(context.Background(), strings.Replace(srv.URL, "https", "http", 1), code, "desk", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "https://HOST:PORT") {
			t.Errorf("Pair = %v, want the address refused", err)
		}
	})
}
