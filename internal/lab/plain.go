package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// PlainBackend is a backend written the way most are: a plain net/http
// server that reads the whole request body before it answers (no full
// duplex), unlike the lab's streaming sample. POST /echo answers with the
// body it received and, in headers, that body's length and SHA-256, so a
// test can tell what reached the backend from what came back. POST /sink
// refuses bodies over 1 MiB without reading them, as backends with a body
// limit do. Any other request is answered with what arrived: method,
// request URI and headers.
type PlainBackend struct {
	URL string
	srv *http.Server
}

// StartPlainBackend serves on a free loopback port.
func StartPlainBackend() (*PlainBackend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, r.Body); err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(buf.Bytes())
		w.Header().Set(ReceivedLength, strconv.Itoa(buf.Len()))
		w.Header().Set(ReceivedSHA256, hex.EncodeToString(sum[:]))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("POST /sink", func(w http.ResponseWriter, r *http.Request) {
		// A body limit, as many backends have: a body announced or found
		// too large is refused before it is read whole.
		const limit = 1 << 20
		if r.ContentLength > limit {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		n, err := io.Copy(io.Discard, io.LimitReader(r.Body, limit+1))
		if err != nil || n > limit {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set(ReceivedLength, strconv.FormatInt(n, 10))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Anything else: say what arrived, so tests can see what a backend
		// behind Bab is given.
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Received{Method: r.Method, URI: r.RequestURI, Header: r.Header})
	})
	b := &PlainBackend{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go b.srv.Serve(ln)
	return b, nil
}

// Received is what the plain backend answers to any other request.
type Received struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

// The headers in which a backend of the lab says what body it received.
const (
	ReceivedLength = "X-Received-Length"
	ReceivedSHA256 = "X-Received-Sha256"
)

// Close stops the server.
func (b *PlainBackend) Close() error { return b.srv.Close() }
