package appliance

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/babgate/bab/internal/adminsock"
	"github.com/babgate/bab/internal/hostcheck"
)

// ControlHost is the Host that clients of the control socket send
// (http://bab/v1/status); the socket refuses every other.
const ControlHost = "bab"

// ControlHandler serves the control socket (admin.socket): GET /v1/status,
// which tells the appliance's identity, tunnels and recent warnings, and
// POST /v1/probe, which makes the appliance dial each exchange with its
// key (in the TPM, so the TPM signs), and GET /v1/trace/query, which asks
// the exchange for this member's trace records. Only root, the service's user and
// members of admin.socket_group reach it: the socket's file permissions
// decide, before a byte is read. GET /healthz is there for the watchdog.
func (a *Appliance) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveHealthz)
	mux.HandleFunc("POST /v1/probe", a.serveProbe)
	mux.HandleFunc("GET /v1/trace/query", a.serveTraceQuery)
	a.controlConsoles(mux)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a.Status())
	})
	return mux
}

// controlHosts is the socket's one name: no browser can reach a Unix
// socket, but a local proxy that forwards to it could carry one's
// requests.
var controlHosts = hostcheck.Exact("the Bab appliance's control socket", ControlHost)

// listenControl opens the control socket, mode 0660, for the service's
// user and group, with an ACL entry for admin.socket_group.
func (a *Appliance) listenControl() (net.Listener, error) {
	ln, err := adminsock.Listen(a.cfg.Admin.Socket, adminsock.Options{Groups: []string{a.cfg.Admin.SocketGroup}, Log: a.log.With("subsys", "admin")})
	if err != nil {
		return nil, fmt.Errorf("control socket (admin.socket): %w", err)
	}
	return ln, nil
}
