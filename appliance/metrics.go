package appliance

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/internal/metrics"
)

// Directions of a request as seen by this appliance.
const (
	directionOut = "out" // called by a local system through the gateway
	directionIn  = "in"  // arrived through the tunnel for a service provided here
)

// applianceMetrics is what an appliance serves at /metrics. Each appliance
// has its own registry (a process may run many appliances); the state
// gauges are read from the appliance when scraped, and the request
// recorders keep their series once looked up.
type applianceMetrics struct {
	reg *prometheus.Registry
	out *metrics.Requests
	in  *metrics.Requests
}

func newMetrics(a *Appliance) *applianceMetrics {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_requests_total",
		Help: `Requests by direction ("out": from a local system through the gateway, "in": for a service provided here), service and outcome ("ok" or a problem code).`,
	}, []string{"direction", "service", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bab_request_duration_seconds",
		Help:    "Time from a request's arrival at this appliance to the end of its answer, whatever the outcome.",
		Buckets: metrics.DurationBuckets,
	}, []string{"direction", "service"})
	m := &applianceMetrics{
		reg: prometheus.NewRegistry(),
		out: metrics.NewRequests(total, duration, directionOut),
		in:  metrics.NewRequests(total, duration, directionIn),
	}
	m.reg.MustRegister(total, duration, stateCollector{a}, evidenceCollector{a}, buildInfo())
	return m
}

// buildInfo is one collector for every appliance of the process.
var buildInfo = sync.OnceValue(func() prometheus.Collector {
	return metrics.BuildInfo("bab_build_info", "Always 1; the version label is the running bab's.", Version)
})

// The state descriptors are shared by every appliance of the process.
var (
	tunnelUpDesc = prometheus.NewDesc("bab_tunnel_up",
		"1 while the tunnel to this exchange address is up (at least one of its lanes), else 0.", []string{"exchange"}, nil)
	tunnelLanesUpDesc = prometheus.NewDesc("bab_tunnel_lanes_up",
		"Connections (lanes) up to this exchange address, of the tunnels.lanes the appliance keeps.", []string{"exchange"}, nil)
	tunnelLanesDesc = prometheus.NewDesc("bab_tunnel_lanes",
		"Connections (lanes) the appliance keeps to this exchange address (tunnels.lanes).", []string{"exchange"}, nil)
	tunnelTransportDesc = prometheus.NewDesc("bab_tunnel_transport",
		`Lanes up to this exchange address on each transport ("quic", or "tcp" where the network blocks UDP).`, []string{"exchange", "transport"}, nil)
	tunnelReconnectsDesc = prometheus.NewDesc("bab_tunnel_reconnects_total",
		"Times a lane of the tunnel to this exchange address went down or failed to come up, each followed by a new attempt.", []string{"exchange"}, nil)
	policyVersionDesc = prometheus.NewDesc("bab_policy_version",
		"Version of the policy this appliance enforces; 0 before the first.", nil, nil)
	policyExpiryDesc = prometheus.NewDesc("bab_policy_expiry_timestamp_seconds",
		"When the policy in force expires, in seconds since 1970; absent before the first policy.", nil, nil)
	quarantinedDesc = prometheus.NewDesc("bab_quarantined",
		"1 while the exchange holds this appliance in quarantine (its boot state is not the recorded one), else 0.", nil, nil)
	tpmDesc = prometheus.NewDesc("bab_tpm_attestation",
		"1 if this appliance's key is in a TPM and it proves its boot state to the exchange, 0 for a software key.", nil, nil)
	certExpiryDesc = prometheus.NewDesc("bab_certificate_expiry_timestamp_seconds",
		"When the tunnel certificate expires, in seconds since 1970 (it is renewed well before).", nil, nil)
)

// stateCollector reads the appliance's state when scraped, so that no
// gauge has to be kept up to date where the state changes.
type stateCollector struct{ a *Appliance }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tunnelUpDesc, tunnelLanesUpDesc, tunnelLanesDesc, tunnelTransportDesc, tunnelReconnectsDesc, policyVersionDesc, policyExpiryDesc, quarantinedDesc, tpmDesc, certExpiryDesc} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	for _, l := range a.links {
		st := l.state()
		ch <- prometheus.MustNewConstMetric(tunnelUpDesc, prometheus.GaugeValue, flag(st.Connected), st.Addr)
		ch <- prometheus.MustNewConstMetric(tunnelLanesUpDesc, prometheus.GaugeValue, float64(st.LanesUp), st.Addr)
		ch <- prometheus.MustNewConstMetric(tunnelLanesDesc, prometheus.GaugeValue, float64(st.Lanes), st.Addr)
		for _, k := range []string{"quic", "tcp"} {
			ch <- prometheus.MustNewConstMetric(tunnelTransportDesc, prometheus.GaugeValue, float64(l.lanesOn(k)), st.Addr, k)
		}
		ch <- prometheus.MustNewConstMetric(tunnelReconnectsDesc, prometheus.CounterValue, float64(st.Attempts), st.Addr)
	}
	var version float64
	if p := a.policy.Load(); p != nil {
		version = float64(p.Version())
		ch <- prometheus.MustNewConstMetric(policyExpiryDesc, prometheus.GaugeValue, float64(p.Expires().Unix()))
	}
	ch <- prometheus.MustNewConstMetric(policyVersionDesc, prometheus.GaugeValue, version)
	ch <- prometheus.MustNewConstMetric(quarantinedDesc, prometheus.GaugeValue, flag(a.quarantine.Load() != nil))
	ch <- prometheus.MustNewConstMetric(tpmDesc, prometheus.GaugeValue, flag(a.tpm != nil && a.ak != nil))
	if c := a.cert.Load(); c != nil && c.Leaf != nil {
		ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(c.Leaf.NotAfter.Unix()))
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MetricsHandler serves the appliance's metrics in the Prometheus text
// format; the admin address serves it at /metrics.
func (a *Appliance) MetricsHandler() http.Handler { return metrics.Handler(a.metrics.reg) }
