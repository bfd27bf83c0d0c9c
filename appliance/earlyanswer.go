package appliance

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// A backend may answer before it has read a whole request body (a 413
// from its own limit, say) and close its connection with the rest unread;
// its kernel then resets the connection, and the provider's write of the
// body fails at about the moment the answer arrives. net/http's transport
// returns whichever it sees first, so the backend's answer could be lost
// to "connection reset by peer". The answer is already in this side's
// receive queue: a write that fails waits until the connection's reader
// has ended (it read the answer, then the reset) or answerGrace passed,
// so that the transport sees the answer first.

// answerGrace bounds how long a failed write waits for the reader.
const answerGrace = 500 * time.Millisecond

// answerFirstConn is a backend connection whose failed writes wait for
// its reader.
type answerFirstConn struct {
	net.Conn
	once      sync.Once
	readEnded chan struct{}
}

// dialAnswerFirst dials with d and wraps the connection.
func dialAnswerFirst(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &answerFirstConn{Conn: c, readEnded: make(chan struct{})}, nil
	}
}

func (c *answerFirstConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(func() { close(c.readEnded) })
	}
	return n, err
}

func (c *answerFirstConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		t := time.NewTimer(answerGrace)
		select {
		case <-c.readEnded:
		case <-t.C:
		}
		t.Stop()
	}
	return n, err
}
