package exchange

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/babgate/bab/internal/hostcheck"
	"github.com/babgate/bab/internal/metrics"
)

// MonitorHandler serves admin_listen: /healthz, /readyz and /metrics, for
// monitoring tools. It offers no operations command: those stay on the
// admin socket. serveMonitor puts a Host check in front of it.
func (x *Exchange) MonitorHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", x.serveReadyz)
	mux.Handle("GET /metrics", metrics.Handler(x.metrics.reg))
	return mux
}

// serveReadyz answers 200 when the exchange can carry requests, else 503
// with the reason on the first line; the next line says how many
// appliances are connected either way.
func (x *Exchange) serveReadyz(w http.ResponseWriter, r *http.Request) {
	status, first := http.StatusOK, "ok"
	if reason := x.notReady(); reason != "" {
		status, first = http.StatusServiceUnavailable, reason
	}
	n := x.fleetCounts(0).appliances
	connected := fmt.Sprintf("%d appliances connected", n)
	if n == 1 {
		connected = "1 appliance connected"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "%s\n%s\n", first, connected)
}

// notReady says why the exchange cannot carry requests, or "" if it can:
// its QUIC listener is up and it holds a policy.
func (x *Exchange) notReady() string {
	if !x.ready.Load() {
		return "the QUIC listener for appliances is not up: the exchange is starting or stopping"
	}
	if x.policy.Load() == nil {
		return "no policy loaded: central ops must publish one (bab-exchange policy push)"
	}
	return ""
}

// listenMonitor opens admin_listen.
func (x *Exchange) listenMonitor() (net.Listener, error) {
	ln, err := net.Listen("tcp", x.cfg.AdminListen)
	if err != nil {
		return nil, fmt.Errorf("exchange: admin_listen %s: %w (choose another port in bab-exchange.yaml if it is taken)", x.cfg.AdminListen, err)
	}
	return ln, nil
}

// serveMonitor serves ln until ctx ends.
func (x *Exchange) serveMonitor(ctx context.Context, ln net.Listener) {
	hosts := hostcheck.ForTCP("the Bab exchange's metrics and health address", x.cfg.AdminListen, x.cfg.Names...)
	srv := &http.Server{Handler: hosts.Guard(x.MonitorHandler()), ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	x.log.Info("health and metrics for monitoring", "admin_listen", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		x.log.Error("admin_listen stopped serving", "err", err)
	}
}
