package console

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/problem"
)

// Answers longer than these are refused: a lookup's result is one record,
// everything else is a short list.
const (
	maxLookupAnswer = 16 << 20
	maxAnswer       = 4 << 20
)

// Client calls the console API of one appliance, over its console socket
// or over HTTPS with the certificate the console received when paired. It
// keeps nothing it receives.
type Client struct {
	base  string // scheme and host of every request
	user  string // the desktop account, sent in HeaderUser; empty on the socket
	http  *http.Client
	local bool
}

// DialSocket returns a client for the console socket at path, once a
// connection shows that the socket is there and this account may use it.
// A missing socket is ErrNoSocket; a socket this account may not open
// (not in group bab-console) is an error that matches fs.ErrPermission.
func DialSocket(path string) (*Client, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("console socket %s: %w", path, ErrNoSocket)
	}
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("console socket %s: not a socket", path)
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := dial(ctx, "", "")
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	conn.Close()
	tr := &http.Transport{DialContext: dial, MaxIdleConns: 2, IdleConnTimeout: time.Minute}
	return &Client{base: "http://" + SocketHost, http: &http.Client{Transport: tr}, local: true}, nil
}

// DialHTTPS returns a client for the appliance's console HTTPS address,
// baseURL (https://HOST:PORT), with the console's certificate and key and
// the appliance's console CA, which is the only CA it trusts there. The
// appliance's certificate must name HOST. Each request carries the
// desktop account the console runs under.
func DialHTTPS(baseURL, certFile, keyFile, caFile string) (*Client, error) {
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("console certificate: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("appliance CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("appliance CA %s: no certificate in it", caFile)
	}
	account, err := desktopAccount()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			RootCAs:      roots,
			Certificates: []tls.Certificate{cert},
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        2,
		IdleConnTimeout:     time.Minute,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &Client{base: u.Scheme + "://" + u.Host, user: account, http: &http.Client{Transport: tr}}, nil
}

// desktopAccount is the account the console runs under.
func desktopAccount() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("desktop account: %w", err)
	}
	return u.Username, nil
}

// parseBaseURL accepts https://HOST:PORT (a path or a trailing slash is
// ignored) and nothing else.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("appliance address %q: %w", s, err)
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("appliance address %q: want https://HOST:PORT", s)
	}
	return u, nil
}

// Local reports whether the client uses the console socket.
func (c *Client) Local() bool { return c.local }

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// WhoAmI asks whom the appliance takes the caller for.
func (c *Client) WhoAmI(ctx context.Context) (*WhoAmI, error) {
	var w WhoAmI
	if err := c.call(ctx, http.MethodGet, PathWhoAmI, nil, nil, &w, maxAnswer); err != nil {
		return nil, fmt.Errorf("whoami: %w", err)
	}
	return &w, nil
}

// Status asks for the office's connection state.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.call(ctx, http.MethodGet, PathStatus, nil, nil, &s, maxAnswer); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &s, nil
}

// Catalog lists the services the caller's role may look up.
func (c *Client) Catalog(ctx context.Context) ([]Service, error) {
	var s []Service
	if err := c.call(ctx, http.MethodGet, PathCatalog, nil, nil, &s, maxAnswer); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return s, nil
}

// Lookup asks another administration for one record. The result is the
// caller's to keep in memory only.
func (c *Client) Lookup(ctx context.Context, req LookupRequest) (*LookupResult, error) {
	var r LookupResult
	if err := c.call(ctx, http.MethodPost, PathLookup, nil, req, &r, maxLookupAnswer); err != nil {
		return nil, fmt.Errorf("lookup %s: %w", req.Service, err)
	}
	return &r, nil
}

// ActivityFilter narrows the activity list; empty fields do not filter.
type ActivityFilter struct {
	Direction string // "in" or "out"
	Outcome   string // "ok" or a problem code
	Service   string
}

// Activity lists the office's recent exchanges.
func (c *Client) Activity(ctx context.Context, f ActivityFilter) ([]Activity, error) {
	q := url.Values{}
	for k, v := range map[string]string{"direction": f.Direction, "outcome": f.Outcome, "service": f.Service} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var a []Activity
	if err := c.call(ctx, http.MethodGet, PathActivity, q, nil, &a, maxAnswer); err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	return a, nil
}

// Office asks for the office IT view of the appliance.
func (c *Client) Office(ctx context.Context) (*Office, error) {
	var o Office
	if err := c.call(ctx, http.MethodGet, PathOffice, nil, nil, &o, maxAnswer); err != nil {
		return nil, fmt.Errorf("office: %w", err)
	}
	return &o, nil
}

// Revoke revokes the paired console with this name.
func (c *Client) Revoke(ctx context.Context, name string) error {
	if err := c.call(ctx, http.MethodPost, PathRevoke, nil, RevokeRequest{Name: name}, nil, maxAnswer); err != nil {
		return fmt.Errorf("revoke %s: %w", name, err)
	}
	return nil
}

// call sends one request and decodes a 2xx answer into out (when not
// nil). A problem+json answer becomes a *ProblemError, any other failure
// a *StatusError.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any, limit int64) error {
	return do(ctx, c.http, c.base, c.user, method, path, q, in, out, limit)
}

func do(ctx context.Context, hc *http.Client, base, account, method, path string, q url.Values, in, out any, limit int64) error {
	target := base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if account != "" {
		req.Header.Set(HeaderUser, account)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return err
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	if resp.StatusCode/100 != 2 {
		return answerError(resp, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// answerError is the error a failed answer stands for.
func answerError(resp *http.Response, body []byte) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" {
		var p problem.Problem
		if err := json.Unmarshal(body, &p); err == nil && p.Code != "" {
			e := &ProblemError{Status: resp.StatusCode, Problem: p}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				e.RetryAfter = time.Duration(s) * time.Second
			}
			return e
		}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200]
	}
	return &StatusError{Status: resp.StatusCode, Text: text}
}
