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

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/config"
)

// adminClient talks to the running exchange over its admin socket.
type adminClient struct {
	socket   string
	readOnly string // the read-only group, for messages
	http     *http.Client
}

// newAdmin reads the config to find the admin socket. The packaged config
// is for root and group bab-exchange, not for the read-only group: for its
// members the packaged defaults name the socket (a config that moved it
// leaves them at the default path, where nothing answers).
func newAdmin(cfgPath string) (*adminClient, error) {
	cfg, err := opsConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	return adminFor(cfg), nil
}

// opsConfig reads the config as the ops commands need it: the packaged
// defaults stand in for the packaged config, which the read-only group
// may not read.
func opsConfig(cfgPath string) (*config.Config, error) {
	cfg, err := config.Load(cfgPath)
	if errors.Is(err, fs.ErrPermission) && cfgPath == DefaultConfig {
		cfg, err = config.Default(), nil
	}
	return cfg, err
}

func adminFor(cfg *config.Config) *adminClient {
	c := dialAdmin(cfg.AdminSocket)
	c.readOnly = cfg.AdminReadOnlyGroup
	return c
}

func dialAdmin(socket string) *adminClient {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &adminClient{socket: socket, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// denied says what to do when the kernel refused the socket.
func (c *adminClient) denied() error {
	ro := ""
	if c.readOnly != "" {
		ro = fmt.Sprintf(", or to %s to list and show without changing anything", c.readOnly)
	}
	return fmt.Errorf("permission denied on the exchange's admin socket %s: run the command with sudo, "+
		"or have an administrator add you to group bab-exchange (sudo usermod -aG bab-exchange NAME)%s; "+
		"a new group takes effect at your next login", c.socket, ro)
}

// do sends a request and decodes a JSON answer into out; admin errors come
// back as Go errors with the exchange's own message.
func (c *adminClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+exchange.AdminHost+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if errors.Is(err, fs.ErrPermission) {
		return c.denied()
	}
	if err != nil {
		return fmt.Errorf("the exchange does not answer on %s (is bab-exchange running, and may you use its socket?): %w", c.socket, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var ae exchange.AdminError
		if json.Unmarshal(raw, &ae) == nil && ae.Error != "" {
			return fmt.Errorf("%s", ae.Error)
		}
		return fmt.Errorf("exchange answered %s", resp.Status)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = raw
		return nil
	}
	return json.Unmarshal(raw, out)
}
