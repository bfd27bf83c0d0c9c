package appliance

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/wire"
)

func TestClientAuth(t *testing.T) {
	certDER := []byte("a client certificate, as DER bytes")
	ca, err := newClientAuth([]config.Client{
		{Name: "registry", TokenSHA256: sha256.Sum256([]byte("s3cret")), HasToken: true},
		{Name: "school", CertSHA256: sha256.Sum256(certDER), HasCert: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	withCert := func(der []byte) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Raw: der}}}
	}
	cases := []struct {
		name   string
		header string
		tls    *tls.ConnectionState
		want   string
	}{
		{"token", "Bearer s3cret", nil, "registry"},
		{"scheme case", "bearer s3cret", nil, "registry"},
		{"wrong token", "Bearer s3cret2", nil, ""},
		{"basic scheme", "Basic s3cret", nil, ""},
		{"no credential", "", nil, ""},
		{"certificate", "", withCert(certDER), "school"},
		{"unknown certificate, no token", "", withCert([]byte("other")), ""},
		{"unknown certificate, good token", "Bearer s3cret", withCert([]byte("other")), "registry"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		r.TLS = c.tls
		if got := ca.identify(r); got != c.want {
			t.Errorf("%s: identify = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTimeoutHeader(t *testing.T) {
	a := &Appliance{cfg: &config.Config{Gateway: config.Gateway{DefaultTimeout: 30 * time.Second, MaxTimeout: time.Minute}}}
	cases := []struct {
		header string
		want   time.Duration
		bad    bool
	}{
		{"", 30 * time.Second, false},
		{"45s", 45 * time.Second, false},
		{"1500ms", 1500 * time.Millisecond, false},
		{"12", 12 * time.Second, false},
		{"10m", time.Minute, false}, // capped
		{"0", 0, true},
		{"-3s", 0, true},
		{"soon", 0, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Bab-Timeout", c.header)
		}
		got, err := a.timeout(r)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("Bab-Timeout %q: got %s, %v; want %s, error %v", c.header, got, err, c.want, c.bad)
		}
	}
}

func TestHeadersThatNeverTravel(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer local-secret")
	h.Set("Connection", "keep-alive, X-Hop")
	h.Set("X-Hop", "1")
	h.Set("Keep-Alive", "timeout=5")
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Bab-Consumer", "MA/GOV/FORGED")
	h.Set("Bab-Timeout", "3s")
	h.Add("Accept", "application/json")
	h.Add("Accept", "text/plain")
	h.Set("X-Case-Ref", "42")
	var names []string
	for _, f := range toFields(h) {
		names = append(names, f.Name+"="+f.Value)
	}
	slices.Sort(names)
	want := []string{"Accept=application/json", "Accept=text/plain", "X-Case-Ref=42"}
	if !slices.Equal(names, want) {
		t.Fatalf("fields = %v, want %v", names, want)
	}

	// On the way in, a peer cannot set Bab's own headers either.
	out := http.Header{}
	fromFields(out, []wire.Field{{Name: "bab-consumer", Value: "forged"}, {Name: "x-case-ref", Value: "7"}, {Name: "connection", Value: "close"}})
	if out.Get("Bab-Consumer") != "" || out.Get("Connection") != "" || out.Get("X-Case-Ref") != "7" {
		t.Fatalf("fromFields kept %v", out)
	}
}

func TestBackendTarget(t *testing.T) {
	cases := []struct{ base, path, query, want string }{
		{"http://127.0.0.1:9000", "/citizens/1", "", "http://127.0.0.1:9000/citizens/1"},
		{"http://127.0.0.1:9000/api", "/citizens/1", "a=1", "http://127.0.0.1:9000/api/citizens/1?a=1"},
		{"http://127.0.0.1:9000/api/", "/", "", "http://127.0.0.1:9000/api/"},
	}
	for _, c := range cases {
		bs, err := newBackends([]config.Service{{Service: "MA/GOV/X/svc", Backend: mustURL(t, c.base), Timeout: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if got := b.target(c.path, c.query).String(); got != c.want {
				t.Errorf("%s + %s: %s, want %s", c.base, c.path, got, c.want)
			}
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
