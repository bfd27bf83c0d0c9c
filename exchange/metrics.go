package exchange

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/internal/metrics"
	"github.com/babgate/bab/problem"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// exchangeMetrics is what the exchange serves at /metrics on admin_listen.
// Nothing is labelled by appliance: a fleet has thousands. The fleet's
// state (connections, policy, quarantine) is read when scraped; events are
// counted where they happen.
type exchangeMetrics struct {
	reg      *prometheus.Registry
	requests *metrics.Requests

	pushesSent, pushesFailed         prometheus.Counter
	deltasSent, deltasResent         prometheus.Counter
	acksApplied, acksRefused         prometheus.Counter
	attestationsOK, attestationsQuar prometheus.Counter
	enrollments                      *prometheus.CounterVec
	limited                          *prometheus.CounterVec
	traceQueue                       *prometheus.CounterVec
	traceWriteErrors                 prometheus.Counter
	traceRecords, traceCheckpoint    prometheus.Gauge
	sessions                         *prometheus.CounterVec
	evidence                         *prometheus.CounterVec // evidence.go
}

func newMetrics(x *Exchange) *exchangeMetrics {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_requests_total",
		Help: `Requests carried or refused by the exchange, by service and outcome ("ok" or a problem code).`,
	}, []string{"service", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bab_exchange_request_duration_seconds",
		Help:    "Time from a request's arrival at the exchange to the end of its answer, whatever the outcome.",
		Buckets: metrics.DurationBuckets,
	}, []string{"service"})
	pushes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_policy_pushes_total",
		Help: `Policy bundles sent to an appliance's tunnel, by result ("sent" or "failed").`,
	}, []string{"result"})
	deltas := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_policy_deltas_total",
		Help: `Pushes sent as a delta against the appliance's bundle ("sent"), and deltas an appliance could not use, answered with the whole bundle ("resent").`,
	}, []string{"result"})
	acks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_policy_acks_total",
		Help: `Answers of appliances to pushed bundles, by result ("applied" or "refused").`,
	}, []string{"result"})
	attestations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_attestations_total",
		Help: `Attestation checks of TPM appliances, by verdict ("ok" or "quarantined").`,
	}, []string{"result"})
	enrollments := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_enrollments_total",
		Help: `Enrollment attempts, by result ("ok" or the refusal's code, such as token_expired).`,
	}, []string{"result"})
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_limited_total",
		Help: `What the exchange refused because one appliance reached a bound of the limits section, by limit ("requests_per_appliance", "requests_per_pair", "tunnels_per_appliance", "enrollments", "renewals", "resends").`,
	}, []string{"limit"})
	sessions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_sessions_total",
		Help: `End-to-end session handshakes between a consumer and a provider appliance, carried ("ok") or refused (a problem code); not counted as requests.`,
	}, []string{"outcome"})
	traceQueue := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_trace_queue_total",
		Help: `Requests that found the trace queue full: "waited" for a place, "refused" with trace_unavailable when none freed in time (never carried untraced).`,
	}, []string{"result"})
	traceWriteErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "bab_exchange_trace_write_errors_total",
		Help: "Failed writes of a batch of trace records; the records are kept and written again.",
	})
	traceRecords := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bab_exchange_trace_records",
		Help: "Records in the trace log, pruned ones included (the tree's size).",
	})
	traceCheckpoint := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bab_exchange_trace_checkpoint_timestamp_seconds",
		Help: "When this exchange last signed a trace checkpoint; 0 before the first since it started.",
	})
	m := &exchangeMetrics{
		reg:              prometheus.NewRegistry(),
		requests:         metrics.NewRequests(total, duration),
		pushesSent:       pushes.WithLabelValues("sent"),
		pushesFailed:     pushes.WithLabelValues("failed"),
		deltasSent:       deltas.WithLabelValues("sent"),
		deltasResent:     deltas.WithLabelValues("resent"),
		acksApplied:      acks.WithLabelValues("applied"),
		acksRefused:      acks.WithLabelValues("refused"),
		attestationsOK:   attestations.WithLabelValues("ok"),
		attestationsQuar: attestations.WithLabelValues("quarantined"),
		enrollments:      enrollments,
		limited:          limited,
		traceQueue:       traceQueue,
		traceWriteErrors: traceWriteErrors,
		traceRecords:     traceRecords,
		traceCheckpoint:  traceCheckpoint,
		sessions:         sessions,
		evidence:         newEvidenceMetrics(),
	}
	for _, r := range []string{"waited", "refused"} {
		traceQueue.WithLabelValues(r) // present from the start, at 0
	}
	for _, l := range []string{"requests_per_appliance", "requests_per_pair", "tunnels_per_appliance", "enrollments", "renewals", "resends", "trace_queries"} {
		limited.WithLabelValues(l) // present from the start, at 0
	}
	m.enrollments.WithLabelValues("ok") // present from the start, at 0
	sessions.WithLabelValues("ok")      // present from the start, at 0
	m.reg.MustRegister(m.evidence)
	m.reg.MustRegister(sessions, total, duration, pushes, deltas, acks, attestations, enrollments, limited, traceQueue, traceWriteErrors, traceRecords, traceCheckpoint, fleetCollector{x},
		metrics.BuildInfo("bab_exchange_build_info", "Always 1; the version label is the running bab-exchange's.", Version))
	return m
}

var (
	appliancesDesc = prometheus.NewDesc("bab_exchange_appliances_connected",
		"Appliances with at least one tunnel up to this exchange.", nil, nil)
	tunnelsDesc = prometheus.NewDesc("bab_exchange_tunnels",
		"Tunnels up to this exchange (an appliance may hold more than one for a moment while it reconnects).", nil, nil)
	tunnelsByTransportDesc = prometheus.NewDesc("bab_exchange_tunnels_by_transport",
		`Tunnels up to this exchange by transport ("quic", or "tcp" for appliances whose network blocks UDP).`, []string{"transport"}, nil)
	quarantinedDesc = prometheus.NewDesc("bab_exchange_appliances_quarantined",
		"Connected appliances that the exchange holds in quarantine: their requests are refused.", nil, nil)
	currentDesc = prometheus.NewDesc("bab_exchange_appliances_current_policy",
		"Connected appliances that acknowledged the current policy version or a later one.", nil, nil)
	policyVersionDesc = prometheus.NewDesc("bab_exchange_policy_version",
		"Version of the current policy; 0 before ops publish the first.", nil, nil)
	stagedVersionDesc = prometheus.NewDesc("bab_exchange_policy_staged_version",
		"Version of the bundle in a staged rollout; 0 when no rollout is in progress.", nil, nil)
	policyExpiryDesc = prometheus.NewDesc("bab_exchange_policy_expiry_timestamp_seconds",
		"When the current policy expires, in seconds since 1970; absent before the first policy.", nil, nil)
)

// fleetCollector reads the fleet's state when scraped: one walk over the
// live tunnels under the session lock, nothing sent and nothing stored.
type fleetCollector struct{ x *Exchange }

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{appliancesDesc, tunnelsDesc, tunnelsByTransportDesc, quarantinedDesc, currentDesc, policyVersionDesc, stagedVersionDesc, policyExpiryDesc} {
		ch <- d
	}
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	x := c.x
	var version uint64
	if p := x.policy.Load(); p != nil {
		version = p.Version()
		ch <- prometheus.MustNewConstMetric(policyExpiryDesc, prometheus.GaugeValue, float64(p.Expires().Unix()))
	}
	var staged uint64
	if r := x.staged.Load(); r != nil {
		staged = r.policy.Version()
	}
	f := x.fleetCounts(version)
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(appliancesDesc, float64(f.appliances))
	gauge(tunnelsDesc, float64(f.tunnels))
	for _, k := range []transport.Kind{transport.QUIC, transport.TCP} {
		ch <- prometheus.MustNewConstMetric(tunnelsByTransportDesc, prometheus.GaugeValue, float64(f.byTransport[k]), string(k))
	}
	gauge(quarantinedDesc, float64(f.quarantined))
	gauge(currentDesc, float64(f.current))
	gauge(policyVersionDesc, float64(version))
	gauge(stagedVersionDesc, float64(staged))
}

type fleetCounts struct {
	appliances, tunnels, quarantined, current int
	byTransport                               map[transport.Kind]int
}

// fleetCounts counts the live tunnels and the appliances behind them; an
// appliance counts once however many tunnels it has.
func (x *Exchange) fleetCounts(version uint64) fleetCounts {
	x.mu.RLock()
	defer x.mu.RUnlock()
	f := fleetCounts{byTransport: map[transport.Kind]int{}}
	for _, list := range x.sessions {
		up, quarantined, current := false, false, false
		for _, s := range list {
			if s.conn.Context().Err() != nil {
				continue
			}
			f.tunnels++
			f.byTransport[s.conn.Kind()]++
			up = true
			quarantined = quarantined || s.quarantined.Load()
			current = current || (version > 0 && s.applied.Load() >= version)
		}
		if up {
			f.appliances++
		}
		if quarantined {
			f.quarantined++
		}
		if current {
			f.current++
		}
	}
	return f
}

// resetOutcomes maps the trace's "reset:NAME" outcomes to what the
// consumer's gateway makes of the reset.
var resetOutcomes = map[string]string{
	"reset:" + wire.CodeName(wire.CodeCanceled):     metrics.Canceled,
	"reset:" + wire.CodeName(wire.CodeTimeout):      string(problem.Timeout),
	"reset:" + wire.CodeName(wire.CodeBackend):      string(problem.BackendUnreachable),
	"reset:" + wire.CodeName(wire.CodeBodyTooLarge): string(problem.BodyTooLarge),
	"reset:" + wire.CodeName(wire.CodeTunnelLost):   string(problem.ProviderOffline),
}

// outcome turns a trace outcome into a metrics outcome: "ok", a problem
// code, or "canceled".
func outcome(trace string) string {
	switch {
	case trace == "":
		return string(problem.Internal) // the answer could not be read
	case strings.HasPrefix(trace, "reset:"):
		if o, ok := resetOutcomes[trace]; ok {
			return o
		}
		return string(problem.Internal)
	}
	return trace // a code no catalog knows is counted as internal
}
