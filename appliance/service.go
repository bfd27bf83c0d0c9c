package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Listeners are sockets the service manager opened for the appliance
// (socket activation); a nil one is opened from the config as usual.
type Listeners struct {
	Gateway net.Listener
	Admin   net.Listener
}

// UseListeners makes Run serve on ls instead of listening itself. Call it
// before Run.
func (a *Appliance) UseListeners(ls Listeners) { a.inherited = ls }

// Alive is the watchdog's liveness check: the parts a stuck appliance
// would show, none that depend on the network (an office cut off from
// the exchange is degraded, not dead, and a restart would not help). It
// checks that the store answers a read, that no policy apply is stuck
// holding the apply lock, and that the admin address and the control
// socket answer /healthz through their own listeners (so their accept
// loops and handlers run).
func (a *Appliance) Alive(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, err := a.store.Policy()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("liveness: store read: %w", err)
		}
	case <-ctx.Done():
		return errors.New("liveness: the store did not answer a read in time")
	}
	if !a.applyMu.TryLock() {
		// An apply takes milliseconds; wait for it a little before calling it stuck.
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for !a.applyMu.TryLock() {
			select {
			case <-ctx.Done():
				return errors.New("liveness: a policy apply holds its lock and does not finish")
			case <-t.C:
			}
		}
	}
	a.applyMu.Unlock()
	ad, ok := a.adminAddr.Load().(net.Addr)
	if !ok {
		return errors.New("liveness: the admin server is not listening yet")
	}
	if err := answers(ctx, livenessClient, "admin", "http://"+dialable(ad)+"/healthz"); err != nil {
		return err
	}
	return answers(ctx, a.controlClient(), "control socket "+a.cfg.Admin.Socket, "http://"+ControlHost+"/healthz")
}

// answers checks that url answers 200 through c.
func answers(ctx context.Context, c *http.Client, what, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("liveness: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("liveness: %s %s: %w", what, url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("liveness: %s %s answered %s", what, url, resp.Status)
	}
	return nil
}

// livenessClient keeps no idle connection: each check proves a fresh
// accept.
var livenessClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

// controlClient reaches the control socket, a fresh connection each time.
func (a *Appliance) controlClient() *http.Client {
	path := a.cfg.Admin.Socket
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
}

// dialable turns a listening address into one to connect to: a wildcard
// address (0.0.0.0, ::) is reached on loopback.
func dialable(ad net.Addr) string {
	tcp, ok := ad.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return ad.String()
	}
	if tcp.IP.To4() != nil {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return net.JoinHostPort("::1", fmt.Sprint(tcp.Port))
}

// Summary is a one-line account of what the appliance is doing, for the
// service manager's status line (systemctl status bab).
func (a *Appliance) Summary() string {
	st := a.Status()
	var b strings.Builder
	up, lanes, lanesUp := 0, 0, 0
	for _, t := range st.Tunnels {
		if t.Connected {
			up++
		}
		lanes, lanesUp = lanes+t.Lanes, lanesUp+t.LanesUp
	}
	switch {
	case st.Quarantine != "":
		fmt.Fprintf(&b, "quarantined by the exchange (%s); ", st.Quarantine)
	case st.Policy.Pending:
		fmt.Fprintf(&b, "policy v%d; WAITING FOR CENTRAL APPROVAL; ", st.Policy.Version)
	case st.Policy.OtherKey != "":
		fmt.Fprintf(&b, "policy v%d; the policy lists ANOTHER KEY for this appliance, WAITING FOR CENTRAL APPROVAL of its key; ", st.Policy.Version)
	case st.Policy.Problem != "":
		b.WriteString("NO VALID POLICY: the cached one was refused, waiting for the exchange to push one; ")
	case st.Policy.Version == 0:
		b.WriteString("waiting for the first policy from the exchange; ")
	case st.Policy.Expired:
		fmt.Fprintf(&b, "policy v%d EXPIRED; ", st.Policy.Version)
	default:
		fmt.Fprintf(&b, "policy v%d; ", st.Policy.Version)
	}
	fmt.Fprintf(&b, "%d of %d tunnels up", up, len(st.Tunnels))
	if lanes > len(st.Tunnels) {
		fmt.Fprintf(&b, " (%d of %d lanes)", lanesUp, lanes)
	}
	if up == 0 {
		for _, t := range st.Tunnels {
			if t.LastError != "" {
				fmt.Fprintf(&b, " (last error: %s)", t.LastError)
				break
			}
		}
	}
	if st.Gateway != "" {
		fmt.Fprintf(&b, "; gateway on %s", st.Gateway)
	}
	return b.String()
}
