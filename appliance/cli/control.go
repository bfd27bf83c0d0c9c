package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/problem"
)

// control reaches the running service's control socket (admin.socket).
type control struct {
	socket, group string
	http          *http.Client
}

func newControl(adm config.Admin) *control {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", adm.Socket)
	}}
	return &control{socket: adm.Socket, group: adm.SocketGroup, http: &http.Client{Transport: tr}}
}

// do sends a request and returns the answer; a refused connection comes
// back as ErrControlDenied with what to do about it.
func (c *control) do(ctx context.Context, method, path string) (*http.Response, error) {
	return c.send(ctx, method, path, nil)
}

// send is do with a request body.
func (c *control) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+appliance.ControlHost+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w %s: run the command with sudo, or have an administrator add you to group %s "+
			"(sudo usermod -aG %s NAME; it takes effect at your next login)", ErrControlDenied, c.socket, c.group, c.group)
	}
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", c.socket, err)
	}
	return resp, nil
}

// fetchStatus reads /v1/status from the running service.
func fetchStatus(ctx context.Context, adm config.Admin, timeout time.Duration) (*appliance.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := newControl(adm).do(ctx, http.MethodGet, "/v1/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("control socket: %s", resp.Status)
	}
	var st appliance.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	return &st, nil
}

// probeThroughService asks the running service to probe its exchanges.
func probeThroughService(ctx context.Context, adm config.Admin) ([]tunnel.ProbeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, tunnel.ProbeTimeout+10*time.Second)
	defer cancel()
	resp, err := newControl(adm).do(ctx, http.MethodPost, "/v1/probe")
	if err != nil {
		return nil, fmt.Errorf("the running service did not answer: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return nil, errors.New("the running service is older than this bab and cannot check its exchanges: restart it (systemctl restart bab)")
	default:
		return nil, fmt.Errorf("the running service answered %s", resp.Status)
	}
	var out []tunnel.ProbeResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("read the service's answer: %w", err)
	}
	return out, nil
}

// controlConfig loads the config of a command that talks to the running
// service. The packaged config is for root and group bab (it may name
// secrets), not for the members of bab-admin who may use the control
// socket: for them, the packaged defaults name the socket. A config that
// moved the socket elsewhere then leaves them at the default path, where
// nothing answers.
func controlConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, fs.ErrPermission) && path == DefaultConfig {
		return config.Default(), nil
	}
	return cfg, err
}

// call sends in as JSON and decodes the answer into out; a problem the
// service answered with comes back as an error with its detail.
func (c *control) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var p problem.Problem
		if json.NewDecoder(resp.Body).Decode(&p) == nil && p.Detail != "" {
			return errors.New(p.Detail)
		}
		return fmt.Errorf("control socket: %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
