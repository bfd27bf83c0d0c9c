package appliance

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/config"
)

// A provider's backend on HTTPS with a private CA: the backend's TLS
// settings from bab.yaml are what make the call succeed, and without them
// the certificate is refused.
func TestHTTPSBackendWithPrivateCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure "+r.URL.Path)
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "backend-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	call := func(tlsCfg *config.BackendTLS) (string, error) {
		bs, err := newBackends([]config.Service{{Service: "MA/GOV/X/svc", Backend: mustURL(t, srv.URL+"/api"), Timeout: 5 * time.Second, TLS: tlsCfg}})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			resp, err := b.client.Get(b.target("/records/1", "").String())
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return string(body), nil
		}
		return "", nil
	}
	if got, err := call(&config.BackendTLS{CAFile: caFile}); err != nil || got != "secure /api/records/1" {
		t.Fatalf("with the backend CA: %q, %v", got, err)
	}
	if _, err := call(nil); err == nil {
		t.Fatal("a backend certificate from an unknown CA was accepted")
	}
	if _, err := newBackends([]config.Service{{Service: "MA/GOV/X/svc", Backend: mustURL(t, srv.URL), TLS: &config.BackendTLS{CAFile: filepath.Join(t.TempDir(), "missing.pem")}}}); err == nil {
		t.Fatal("a missing backend CA file was accepted")
	}
}
