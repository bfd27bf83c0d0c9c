package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Backend is the sample civil registry system behind the provider
// appliance: a real HTTP server on loopback.
type Backend struct {
	URL      string
	srv      *http.Server
	Requests atomic.Int64 // every request that reached it
	Canceled atomic.Int64 // /slow requests whose caller went away
	Slow     atomic.Int64 // /slow requests being served now
	// Salts are the evidence salts (Bab-Evidence-Salt) the requests came
	// with, by request id, as a provider's system would keep them with
	// what it answered.
	Salts sync.Map
}

// StartBackend serves the sample civil registry on a free loopback port.
func StartBackend() (*Backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Backend{URL: "http://" + ln.Addr().String()}
	b.srv = &http.Server{Handler: b.handler(), ReadHeaderTimeout: 10 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

// Close stops the server.
func (b *Backend) Close() error { return b.srv.Close() }

// Handler serves the sample API; the benchmark also calls it directly.
func (b *Backend) Handler() http.Handler { return b.handler() }

func (b *Backend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /citizens/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		n, err := strconv.Atoi(id)
		if err != nil || n <= 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":"no citizen %q"}`+"\n", id)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		rec := map[string]any{
			"id": n, "name": names[n%len(names)], "birth_date": fmt.Sprintf("19%02d-%02d-%02d", 40+n%60, 1+n%12, 1+n%28),
			"birth_place": "Rabat", "asked_by": r.Header.Get("Bab-Consumer"), "system": r.Header.Get("Bab-Consumer-System"), "purpose": r.Header.Get("Bab-Purpose"),
		}
		if s := r.Header.Get("Bab-Subject"); s != "" {
			rec["subject"] = s // as the provider's appliance passed it on
		}
		_ = json.NewEncoder(w).Encode(rec)
	})
	mux.HandleFunc("GET /families/{holder}", familyRecord)
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// Echo while reading, so bodies of any size stream through.
		_ = http.NewResponseController(w).EnableFullDuplex()
		if ct := r.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if r.ContentLength >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("POST /sink", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"bytes": n, "sha256": hex.EncodeToString(h.Sum(nil))})
	})
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "n must be a byte count", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		// headers=N adds N filler headers, for tests of heads too large to carry.
		if k, err := strconv.Atoi(r.URL.Query().Get("headers")); err == nil {
			for i := range min(k, 10_000) {
				w.Header().Set("X-Filler-"+strconv.Itoa(i), "x")
			}
		}
		_, _ = io.Copy(w, io.LimitReader(Pattern(), n))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			d = 10 * time.Second
		}
		b.Slow.Add(1)
		defer b.Slow.Add(-1)
		select {
		case <-time.After(d):
			io.WriteString(w, "done\n")
		case <-r.Context().Done():
			b.Canceled.Add(1)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Requests.Add(1)
		if salt := r.Header.Get("Bab-Evidence-Salt"); salt != "" {
			b.Salts.Store(r.Header.Get("Bab-Request-Id"), salt)
		}
		mux.ServeHTTP(w, r)
	})
}

// familyRecord answers a family record: nested objects and a list, as
// real registries answer, so that the console's result shows sections and
// tables. ?view=children gives the children only.
func familyRecord(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("holder"))
	if err != nil || n <= 0 {
		http.Error(w, "no such family record", http.StatusNotFound)
		return
	}
	person := func(i int, year int) map[string]any {
		return map[string]any{"name": names[i%len(names)], "birth_date": fmt.Sprintf("%d-%02d-%02d", year, 1+i%12, 1+i%28)}
	}
	children := []any{}
	for i := range 1 + n%3 {
		c := person(n+2+i, 2005+i*3)
		c["birth_place"] = "Rabat"
		children = append(children, c)
	}
	rec := map[string]any{"children": children, "asked_by": r.Header.Get("Bab-Consumer"), "system": r.Header.Get("Bab-Consumer-System"), "purpose": r.Header.Get("Bab-Purpose")}
	if r.URL.Query().Get("view") != "children" {
		rec["holder"] = person(n, 1970+n%20)
		spouse := person(n+1, 1972+n%20)
		spouse["married_on"] = fmt.Sprintf("%d-06-%02d", 1998+n%10, 1+n%28)
		rec["spouse"] = spouse
		rec["registered_at"] = "Rabat"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rec)
}

var names = []string{"Amina El Idrissi", "Youssef Benali", "Fatima Zahra Alaoui", "Omar Tazi", "Khadija Bennani", "Mehdi Chraibi"}

// Pattern is an endless deterministic byte stream, so that a test can
// check a large body byte for byte without holding it. It is built from
// one pseudo-random 64 KiB block whose first 8 bytes are replaced by the
// block's index: reordered, repeated or dropped blocks all show.
func Pattern() io.Reader { return &pattern{} }

const patternBlock = 64 << 10

var patternBase = func() []byte {
	b := make([]byte, patternBlock)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}()

type pattern struct {
	off int64
	buf [patternBlock]byte
}

func (p *pattern) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		blk, in := p.off/patternBlock, int(p.off%patternBlock)
		copy(p.buf[:], patternBase)
		binary.BigEndian.PutUint64(p.buf[:8], uint64(blk))
		k := copy(b[n:], p.buf[in:])
		n += k
		p.off += int64(k)
	}
	return n, nil
}

// PatternEqual reads r to its end and reports whether it is exactly the
// first n bytes of Pattern.
func PatternEqual(r io.Reader, n int64) (bool, error) {
	want := Pattern()
	got := make([]byte, 256<<10)
	exp := make([]byte, 256<<10)
	var seen int64
	for {
		k, err := r.Read(got)
		if k > 0 {
			if seen+int64(k) > n {
				return false, nil
			}
			_, _ = io.ReadFull(want, exp[:k])
			if !bytes.Equal(got[:k], exp[:k]) {
				return false, nil
			}
			seen += int64(k)
		}
		if err == io.EOF {
			return seen == n, nil
		}
		if err != nil {
			return false, err
		}
	}
}
