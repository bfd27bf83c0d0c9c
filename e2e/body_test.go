package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/loudskip"
)

// bodySizes are the size classes of the body tests: empty, tiny, around
// Go's and QUIC's buffer sizes, around the 256 KiB a non-duplex HTTP/1.1
// server discards, and large.
var bodySizes = []int{0, 1, 4 << 10, 64 << 10, 256<<10 - 1, 256 << 10, 256<<10 + 1, 1 << 20, 8 << 20}

// TestBodiesArriveWhole sends bodies of every size class, chunked and with
// a length, with and without Expect: 100-continue, several times each,
// through the whole path to three kinds of backend: the lab's streaming
// echo, a plain Go server that reads everything before answering, and a
// real nginx in front of that server. Every answer must be a 200 whose
// body is byte for byte what was sent, and the backends that can say so
// must have received exactly that body. A shorter, longer or altered body
// with a 200 is the failure this test exists for.
func TestBodiesArriveWhole(t *testing.T) {
	reps := 3
	if v, err := strconv.Atoi(os.Getenv("BAB_BODY_REPS")); err == nil && v > 0 {
		reps = v
	}
	t.Run("lab-echo", func(t *testing.T) {
		checkBodies(t, newLab(t, lab.Options{}), reps, false)
	})
	t.Run("lab-echo-over-tcp", func(t *testing.T) {
		checkBodies(t, newLab(t, lab.Options{Transport: "tcp"}), reps, false)
	})
	t.Run("plain-go", func(t *testing.T) {
		plain, err := lab.StartPlainBackend()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { plain.Close() })
		checkBodies(t, newLab(t, lab.Options{BackendURL: plain.URL}), reps, true)
	})
	t.Run("nginx", func(t *testing.T) {
		if !lab.NginxInstalled() {
			loudskip.Skip(t, "nginx is not installed, so Bab is not tested in front of a real reverse proxy (scripts/deps installs it)")
		}
		plain, err := lab.StartPlainBackend()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { plain.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ngx, err := lab.StartNginx(ctx, t.TempDir(), plain.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ngx.Close() })
		checkBodies(t, newLab(t, lab.Options{BackendURL: ngx.URL}), reps, true)
	})
}

type bodyCase struct {
	size            int
	chunked, expect bool
	rep             int
}

func (c bodyCase) String() string {
	enc := "content-length"
	if c.chunked {
		enc = "chunked"
	}
	return fmt.Sprintf("%d B %s expect=%v #%d", c.size, enc, c.expect, c.rep)
}

// checkBodies runs the whole matrix, four requests at a time, and reports
// every case that went wrong.
func checkBodies(t *testing.T, l *lab.Lab, reps int, backendReports bool) {
	var cases []bodyCase
	for rep := range reps {
		for _, size := range bodySizes {
			for _, chunked := range []bool{false, true} {
				for _, expect := range []bool{false, true} {
					cases = append(cases, bodyCase{size, chunked, expect, rep})
				}
			}
		}
	}
	failures := parallel(len(cases), 4, func(i int) error {
		if err := checkBody(l, cases[i], i, backendReports); err != nil {
			return fmt.Errorf("%s: %w", cases[i], err)
		}
		return nil
	})
	if len(failures) > 0 {
		t.Errorf("%d of %d bodies did not arrive whole:\n%s", len(failures), len(cases), strings.Join(failures, "\n"))
	}
	t.Logf("%d bodies sent and compared", len(cases))
	// Every one of them is recorded as carried: a whole answer whose
	// caller hung up at once is no "answer cut off".
	if len(failures) == 0 {
		f, err := lab.Scrape(context.Background(), l.Consumer.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.Value("bab_requests_total", "direction", "out", "service", lab.CivilStatus.String(), "outcome", "ok"); int(ok) != len(cases) {
			t.Errorf("the consumer counted %v of the %d carried requests as ok", ok, len(cases))
		}
	}
}

func checkBody(l *lab.Lab, c bodyCase, seed int, backendReports bool) error {
	body := make([]byte, c.size)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(c.size), byte(c.size >> 8), byte(c.size >> 16)})
	_, _ = r.Read(body)
	call := rawCall{
		Addr: strings.TrimPrefix(l.Consumer.GatewayURL, "http://"), Path: "/" + lab.CivilStatus.String() + "/echo",
		Header: map[string]string{"Authorization": "Bearer " + l.Consumer.Token, "Bab-Timeout": "2m"},
		Body:   body, Chunked: c.chunked, Expect: c.expect, ChunkSeed: seed,
	}
	res, err := call.do(3 * time.Minute)
	if err != nil {
		return err
	}
	id := res.Resp.Header.Get("Bab-Request-Id")
	if res.Resp.StatusCode != 200 {
		return fmt.Errorf("request %s: status %d: %.300s", id, res.Resp.StatusCode, res.Body)
	}
	if !bytes.Equal(res.Body, body) {
		return fmt.Errorf("request %s: a 200 with %d bytes instead of the %d sent (first difference at byte %d)", id, len(res.Body), len(body), firstDiff(res.Body, body))
	}
	if backendReports {
		sum := sha256.Sum256(body)
		gotLen, gotSum := res.Resp.Header.Get(lab.ReceivedLength), res.Resp.Header.Get(lab.ReceivedSHA256)
		if gotLen != strconv.Itoa(len(body)) || gotSum != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("request %s: the backend received %s bytes (sha256 %.12s…), not the %d sent", id, gotLen, gotSum, len(body))
		}
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestBodiesUnderMixedLoad keeps sixteen callers busy with echoes of mixed
// sizes, chunked and with a length, over kept-alive connections: under
// load every answer must still be the body sent, byte for byte.
func TestBodiesUnderMixedLoad(t *testing.T) {
	l := newLab(t, lab.Options{})
	sizes := []int{0, 100, 4 << 10, 4<<10 + 1, 16 << 10, 64 << 10, 300_000}
	const requests, callers = 1500, 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: callers}}
	defer client.CloseIdleConnections()
	failures := parallel(requests, callers, func(i int) error { return echoOnce(l, client, i, sizes[i%len(sizes)], i%2 == 1) })
	if len(failures) > 0 {
		t.Errorf("%d of %d echoes under load were not the body sent:\n%s", len(failures), requests, strings.Join(failures[:min(20, len(failures))], "\n"))
	}
}

func echoOnce(l *lab.Lab, client *http.Client, i, size int, chunked bool) error {
	body := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 7})
	_, _ = r.Read(body)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var src io.Reader = bytes.NewReader(body)
	if chunked {
		src = io.MultiReader(src) // hides the length: net/http sends it chunked
	}
	req, err := l.Request(ctx, "POST", "/echo", src)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("echo %d (%d B, chunked %v): %v", i, size, chunked, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, body) {
		return fmt.Errorf("echo %d (%d B, chunked %v): status %d, %d bytes back, err %v", i, size, chunked, resp.StatusCode, len(got), err)
	}
	return nil
}

// TestBackendAnswersBeforeTheBodyEnds: a backend that refuses a large body
// without reading it (a 413 from its own limit) is answered back to the
// caller as it is, whatever the caller's framing, and the request ends at
// once instead of waiting for the rest of the upload.
func TestBackendAnswersBeforeTheBodyEnds(t *testing.T) {
	plain, err := lab.StartPlainBackend()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	l := newLab(t, lab.Options{BackendURL: plain.URL})
	body := make([]byte, 8<<20)
	for _, chunked := range []bool{false, true} {
		for _, expect := range []bool{false, true} {
			call := rawCall{
				Addr: strings.TrimPrefix(l.Consumer.GatewayURL, "http://"), Path: "/" + lab.CivilStatus.String() + "/sink",
				Header: map[string]string{"Authorization": "Bearer " + l.Consumer.Token, "Bab-Timeout": "1m"},
				Body:   body, Chunked: chunked, Expect: expect,
			}
			start := time.Now()
			res, err := call.do(time.Minute)
			if err != nil {
				t.Fatalf("chunked %v expect %v: %v", chunked, expect, err)
			}
			if res.Resp.StatusCode != http.StatusRequestEntityTooLarge || res.Resp.Header.Get("Content-Type") == "application/problem+json" {
				t.Fatalf("chunked %v expect %v: status %d %s, want the backend's own 413", chunked, expect, res.Resp.StatusCode, res.Body)
			}
			t.Logf("chunked %v expect %v: the backend's 413 in %s", chunked, expect, time.Since(start).Round(time.Millisecond))
		}
	}
	// The path still works afterwards.
	resp, b := do(t, l, "POST", "/sink", strings.NewReader("small"), nil)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get(lab.ReceivedLength) != "5" {
		t.Fatalf("small body after the refusals: %d %s", resp.StatusCode, b)
	}
}

// parallel runs f(0) … f(n-1) on workers goroutines and returns every
// failure, with the index it came from.
func parallel(n, workers int, f func(i int) error) []string {
	var mu sync.Mutex
	var failures []string
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("#%d: %v", i, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return failures
}
