package appliance

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/ident"
)

// TestBackendAnswerBeforeReset: a backend that reads part of a large
// body, answers 413 and closes with the rest unread (its kernel resets
// the connection) has its answer passed on, not "connection reset".
func TestBackendAnswerBeforeReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				if _, err := http.ReadRequest(r); err != nil {
					return
				}
				_, _ = io.CopyN(io.Discard, r, 64<<10) // part of the body
				_, _ = io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
			}()
		}
	}()
	svc := "MA/GOV/X/svc"
	bs, err := newBackends([]config.Service{{Service: svc, Backend: mustURL(t, "http://"+ln.Addr().String()), Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	b := bs[ident.MustService(svc)]
	body := make([]byte, 8<<20)
	lost := 0
	const tries = 40
	for range tries {
		req, _ := http.NewRequest("POST", b.url.String()+"/sink", bytes.NewReader(body))
		req.ContentLength = -1 // chunked, as a caller's body of unknown length
		resp, err := b.client.Do(req)
		if err != nil {
			lost++
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want the backend's 413", resp.StatusCode)
		}
	}
	if lost > 0 {
		t.Errorf("the backend's 413 was lost to the connection's reset %d times of %d", lost, tries)
	}
}
