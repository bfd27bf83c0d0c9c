package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
)

// TestServiceManagerProtocol runs a real bab as systemd would start it
// from bab.service and bab.socket: a notify socket, a watchdog, and the
// gateway's listening socket passed as fd 3 named "gateway". READY=1 must
// come only once the gateway serves (a request through the inherited
// socket succeeds end to end as soon as it arrives), status lines must say
// what the appliance does, the watchdog must be pinged, and SIGTERM must
// end in STOPPING=1 and a clean exit.
func TestServiceManagerProtocol(t *testing.T) {
	l := newLab(t, lab.Options{})
	a := l.Consumer
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(t.TempDir(), "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	notes := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := nc.Read(buf)
			if err != nil {
				close(notes)
				return
			}
			notes <- string(buf[:n])
		}
	}()

	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gf, err := gl.(*net.TCPListener).File()
	gl.Close() // the duplicate in gf stays open for the child
	if err != nil {
		t.Fatal(err)
	}
	defer gf.Close()
	gatewayURL := "http://" + gl.Addr().String()

	// The service manager sets LISTEN_PID and WATCHDOG_PID to the service's
	// pid; a shell that execs bab has that pid.
	var log bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ WATCHDOG_PID=$$ exec "$0" "$@"`, filepath.Join(l.Bin, "bab"), "serve", "--config", a.Config)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=1000000", "LISTEN_FDS=1", "LISTEN_FDNAMES=gateway")
	cmd.ExtraFiles = []*os.File{gf}
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false // set when exited has been received from
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("bab log:\n%s", log.String())
		}
	}()

	next := func(within time.Duration) string {
		t.Helper()
		select {
		case m := <-notes:
			return m
		case err := <-exited:
			waited = true
			t.Fatalf("bab exited: %v", err)
		case <-time.After(within):
			t.Fatalf("no notification within %s", within)
		}
		return ""
	}
	ready := next(20 * time.Second)
	if !strings.HasPrefix(ready, "READY=1\nSTATUS=") || !strings.Contains(ready, "policy v") {
		t.Fatalf("first notification %q, want READY=1 with a status naming the cached policy", ready)
	}
	// At READY the gateway serves on the inherited socket; the tunnel may
	// still be connecting, so the request may wait for it (Bab-Timeout).
	req, _ := http.NewRequest("GET", gatewayURL+"/"+lab.CivilStatus.String()+"/citizens/9", nil)
	req.Header.Set("Authorization", "Bearer "+a.Token)
	req.Header.Set("Bab-Timeout", "10s")
	var status int
	waitFor(t, 15*time.Second, func() error {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err // READY came before the gateway served: a failure after 15 s
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if status = resp.StatusCode; status != http.StatusOK {
			return fmt.Errorf("%d %s", status, b)
		}
		return nil
	})
	// The configured gateway address is not used: the socket came from the
	// service manager.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(a.GatewayURL, "http://"), time.Second); err == nil {
		c.Close()
		t.Errorf("bab also listens on its configured gateway address %s", a.GatewayURL)
	}

	pings, sawTunnels := 0, false
	deadline := time.After(8 * time.Second)
	for pings < 3 || !sawTunnels {
		select {
		case m := <-notes:
			switch {
			case m == "WATCHDOG=1":
				pings++
			case strings.HasPrefix(m, "STATUS="):
				sawTunnels = sawTunnels || strings.Contains(m, "1 of 1 tunnels up")
			default:
				t.Fatalf("unexpected notification %q", m)
			}
		case <-deadline:
			t.Fatalf("in 8 s: %d watchdog pings (want ≥3 at a 1 s watchdog), status naming the tunnel up: %v", pings, sawTunnels)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		m := next(10 * time.Second)
		if strings.HasPrefix(m, "STOPPING=1") {
			break
		}
	}
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Fatalf("bab exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bab did not exit within 10 s of SIGTERM")
	}
}
