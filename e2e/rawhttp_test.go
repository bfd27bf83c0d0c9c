package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// rawCall is one request written byte by byte, as callers that are not Go
// send them: a body with Content-Length or chunked (chunks of uneven sizes,
// some with extensions), with or without Expect: 100-continue.
type rawCall struct {
	Method     string // POST if empty
	Addr, Path string
	Header     map[string]string
	Body       []byte
	Chunked    bool
	Expect     bool
	// ChunkSeed varies the chunk sizes from call to call.
	ChunkSeed int
}

// rawResult is what came back: the final response and its whole body, and
// whether a 100 Continue came first.
type rawResult struct {
	Resp      *http.Response
	Body      []byte
	Continued bool
}

// do sends the call and reads the answer while the body is still being
// written, as a streaming echo needs; it fails on a cut answer.
func (c rawCall) do(timeout time.Duration) (*rawResult, error) {
	conn, err := net.DialTimeout("tcp", c.Addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, c.head()); err != nil {
		return nil, fmt.Errorf("write head: %w", err)
	}
	br := bufio.NewReader(conn)
	res := &rawResult{}
	hasBody := c.Chunked || len(c.Body) > 0
	if c.Expect && hasBody {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, fmt.Errorf("read the interim answer: %w", err)
		}
		if resp.StatusCode != http.StatusContinue {
			return res, res.finish(resp) // refused before the body was sent
		}
		res.Continued = true
	}
	wrote := make(chan error, 1)
	if hasBody {
		go func() { wrote <- c.writeBody(conn) }()
	} else {
		wrote <- nil
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if err := res.finish(resp); err != nil {
		return res, err
	}
	if err := <-wrote; err != nil && resp.StatusCode < 300 {
		return res, fmt.Errorf("a %d answer came while the body could not be sent: %w", resp.StatusCode, err)
	}
	return res, nil
}

func (r *rawResult) finish(resp *http.Response) error {
	r.Resp = resp
	b, err := io.ReadAll(resp.Body)
	r.Body = b
	if err != nil {
		return fmt.Errorf("status %d, answer cut after %d bytes: %w", resp.StatusCode, len(b), err)
	}
	return nil
}

func (c rawCall) head() string {
	var h strings.Builder
	method := c.Method
	if method == "" {
		method = "POST"
	}
	fmt.Fprintf(&h, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n", method, c.Path, c.Addr)
	for k, v := range c.Header {
		fmt.Fprintf(&h, "%s: %s\r\n", k, v)
	}
	if c.Chunked {
		h.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(&h, "Content-Length: %d\r\n", len(c.Body))
	}
	if c.Expect {
		h.WriteString("Expect: 100-continue\r\n")
	}
	h.WriteString("\r\n")
	return h.String()
}

func (c rawCall) writeBody(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	if !c.Chunked {
		if _, err := bw.Write(c.Body); err != nil {
			return err
		}
		return bw.Flush()
	}
	b, n := c.Body, c.ChunkSeed
	for len(b) > 0 {
		n = (n*1103515245 + 12345) & 0x7fffffff
		k := min(len(b), 1+n%40000)
		ext := ""
		if n%7 == 0 {
			ext = ";bab-test=1" // chunk extensions are legal and ignored
		}
		if _, err := fmt.Fprintf(bw, "%x%s\r\n", k, ext); err != nil {
			return err
		}
		if _, err := bw.Write(b[:k]); err != nil {
			return err
		}
		if _, err := io.WriteString(bw, "\r\n"); err != nil {
			return err
		}
		b = b[k:]
	}
	if _, err := io.WriteString(bw, "0\r\n\r\n"); err != nil {
		return err
	}
	return bw.Flush()
}
