package appliance

import (
	"io"
	"net/http"

	"github.com/babgate/bab/internal/hostcheck"
)

// MonitorHandler serves the TCP admin address (admin.listen) for
// monitoring: GET /metrics, /healthz and /readyz, which show figures and
// readiness but nothing about requests or the appliance's secrets. Every
// other path answers 404: the control API is on the control socket.
func (a *Appliance) MonitorHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.MetricsHandler())
	mux.HandleFunc("GET /healthz", serveHealthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if msg := a.notReady(); msg != "" {
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

// monitorHosts are the Host values the TCP admin address answers: its
// own address, localhost and this machine's name (see hostcheck).
func (a *Appliance) monitorHosts() *hostcheck.Policy {
	return hostcheck.ForTCP("the Bab appliance's metrics and health address", a.cfg.Admin.Listen)
}

func serveHealthz(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }
