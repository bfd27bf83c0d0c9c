package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/problem"
)

// TestStalledUploadEndsWithItsRequest plays callers that send part of a
// body and then stall while keeping their connections open, to pin
// goroutines and streams. Each must get a timeout problem at its deadline
// (not a provider_offline), and nothing of the request may outlive it: the
// goroutine counts of the consumer, the exchange and the provider go back
// to where they were while the stalled connections are still open.
func TestStalledUploadEndsWithItsRequest(t *testing.T) {
	l := newLab(t, lab.Options{})
	if resp, _ := do(t, l, "POST", "/sink", strings.NewReader("warm"), nil); resp.StatusCode != 200 {
		t.Fatal("warm-up failed")
	}
	urls := map[string]string{"consumer": l.Consumer.AdminURL, "exchange": l.Exchange.AdminURL, "provider": l.Provider.AdminURL}
	base := map[string]float64{}
	for name, u := range urls {
		base[name] = goroutines(t, u)
	}

	const n = 16
	addr := strings.TrimPrefix(l.Consumer.GatewayURL, "http://")
	head := fmt.Sprintf("POST /%s/sink HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nBab-Timeout: 2s\r\nContent-Length: %d\r\n\r\n",
		lab.CivilStatus, addr, l.Consumer.Token, 1<<20)
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, head+strings.Repeat("x", 10<<10)); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("stalled caller %d: no answer: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var p problem.Problem
		if err := json.Unmarshal(body, &p); err != nil || p.Code != problem.Timeout {
			t.Fatalf("stalled caller %d: status %d %s, want a timeout problem", i, resp.StatusCode, body)
		}
		// The gateway will not read the rest of the body: it closes.
		if _, err := br.ReadByte(); err == nil {
			t.Fatalf("stalled caller %d: the connection stayed open after the answer", i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for name, u := range urls {
		var now float64
		for {
			if now = goroutines(t, u); now <= base[name]+4 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %v goroutines %s after %d stalled uploads ended, %v before: requests left goroutines behind", name, now, "20s", n, base[name])
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	f, err := lab.Scrape(ctx, l.Consumer.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Value("bab_requests_total", "direction", "out", "service", lab.CivilStatus.String(), "outcome", "timeout"); v != n {
		t.Errorf("consumer counted %v timeouts, want %d", v, n)
	}
}

func goroutines(t *testing.T, adminURL string) float64 {
	t.Helper()
	f, err := lab.Scrape(context.Background(), adminURL)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := f.Value("go_goroutines")
	if !ok {
		t.Fatalf("%s serves no go_goroutines", adminURL)
	}
	return v
}
