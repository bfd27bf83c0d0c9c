package appliance

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/agent/tunnel"
	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/wire"
)

// The appliance's evidence (package evidence): an entry for every request
// it sends through its gateway and every request it answers, batched and
// signed per exchange (each exchange address has its outbox, so that an
// exchange logs the evidence of the requests it carried), with a key
// certified once by the appliance key.

// SaltHeader carries a request's evidence salt: to the local system on the
// consumer's answer, to the backend on the provider's request.
const SaltHeader = "Bab-Evidence-Salt"

// evidenceFlushWait is how long a stopping appliance waits for the
// exchange to acknowledge the evidence it holds before it closes its
// tunnels.
const evidenceFlushWait = 3 * time.Second

// initEvidence makes the signer; the links are made after it, each with
// its outbox (newOutbox).
func (a *Appliance) initEvidence() error {
	var err error
	a.evSigner, err = evidence.NewSigner(a.id.String(), a.key.Signer)
	return err
}

// newOutbox makes the outbox of link l, which sends on any of its lanes
// that is up.
func (a *Appliance) newOutbox(l *link) *evidence.Outbox {
	return evidence.NewOutbox(a.evSigner, func(payload []byte) error {
		return l.sendControl(wire.FrameEvidence, payload)
	}, a.log.With("subsys", "evidence"))
}

// runEvidence certifies the first signing key and runs the outboxes until
// ctx ends.
func (a *Appliance) runEvidence(ctx context.Context) {
	if err := a.evSigner.Start(time.Now()); err != nil {
		a.log.Error("the appliance key could not certify an evidence signing key; evidence is kept and signing tried again", "subsys", "evidence", "err", err)
	}
	for _, l := range a.links {
		go l.out.Run(ctx)
	}
}

// flushEvidence sends what the outboxes hold and waits for the
// acknowledgements, at most evidenceFlushWait: a stopping appliance loses
// no evidence its exchange can still take.
func (a *Appliance) flushEvidence() {
	ctx, cancel := context.WithTimeout(context.Background(), evidenceFlushWait)
	defer cancel()
	for _, l := range a.links {
		if !l.connected() {
			if held := l.out.Stats().Held; held > 0 {
				a.log.Warn("stopping with evidence its exchange has not acknowledged, and no tunnel to send it on: it is lost", "subsys", "evidence", "exchange", l.addr, "entries", held)
			}
			continue
		}
		l.out.Flush(ctx)
	}
}

// outboxOf is the outbox of the exchange the lane t goes to, or nil.
func (a *Appliance) outboxOf(t *tunnel.Tunnel) *evidence.Outbox {
	if l := a.linkOf(t); l != nil {
		return l.out
	}
	return nil
}

// requestEvidence is one request's entry as it is made, from the moment
// the request is sealed to its end.
type requestEvidence struct {
	out  *evidence.Outbox
	salt evidence.Salt
	e    evidence.Entry
	// The bodies' digests, as they stream.
	request, response *evidence.Body
}

// newEvidence starts the entry of request seq of session sess, which
// travels on the tunnel whose outbox is out, with its route head; side
// says who speaks.
func newEvidence(out *evidence.Outbox, side evidence.Side, sess *seal.Session, route *wire.RouteHead) *requestEvidence {
	salt := evidence.Salt(sess.EvidenceSalt(route.Seq))
	return &requestEvidence{out: out, salt: salt,
		e: evidence.Entry{Side: side, At: time.Now(), ID: route.ID, Consumer: sess.ConsumerName(), Provider: sess.ProviderName(),
			Service: route.Service, Method: route.Method, Session: sess.ID, Seq: route.Seq},
		request: evidence.NewBody(salt, true), response: evidence.NewBody(salt, false)}
}

// head records the request's head: its target and the head as sealed.
func (r *requestEvidence) head(route *wire.RouteHead, path, query string, clear []byte) {
	r.e.Target = evidence.Target(r.salt, route.Method, path, query)
	r.e.RequestHead = evidence.RequestHead(r.salt, route.AuthBytes(), clear)
}

// answer records the answer's sealed head.
func (r *requestEvidence) answer(clear []byte) {
	if r != nil {
		r.e.ResponseHead = evidence.ResponseHead(r.salt, clear)
	}
}

// refusal records a sealed refusal in place of an answer's head. A
// request refused before it opened as its consumer's (a replay, say) has
// no evidence, and r is nil.
func (r *requestEvidence) refusal(code string, text []byte) {
	if r != nil {
		r.e.ResponseHead = evidence.Refusal(r.salt, code, text)
	}
}

// done adds the entry, with the bodies that went whole, to the outbox.
func (r *requestEvidence) done() {
	if r == nil || r.out == nil {
		return
	}
	r.e.RequestBody, _ = r.request.Sum()
	if !r.e.ResponseHead.IsZero() {
		r.e.ResponseBody, _ = r.response.Sum()
	}
	r.out.Add(&r.e)
}

// Evidence metrics, read from the outboxes when scraped.
var (
	evidenceEntriesDesc = prometheus.NewDesc("bab_evidence_entries_total",
		"Requests this appliance recorded evidence of (sent through the gateway, or answered), by exchange address.", []string{"exchange"}, nil)
	evidenceBatchesDesc = prometheus.NewDesc("bab_evidence_batches_total",
		`Signed batches of evidence, by exchange address and result: "signed", "logged" by the exchange, "refused" by it (they did not verify).`, []string{"exchange", "result"}, nil)
	evidenceHeldDesc = prometheus.NewDesc("bab_evidence_held",
		"Entries of evidence held until the exchange logs them, by exchange address; bounded, and beyond the bound dropped.", []string{"exchange"}, nil)
	evidenceDroppedDesc = prometheus.NewDesc("bab_evidence_dropped_total",
		"Entries of evidence dropped because the exchange had not logged those held; the next batch declares them.", []string{"exchange"}, nil)
)

type evidenceCollector struct{ a *Appliance }

func (c evidenceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{evidenceEntriesDesc, evidenceBatchesDesc, evidenceHeldDesc, evidenceDroppedDesc} {
		ch <- d
	}
}

func (c evidenceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.a.links {
		st, addr := l.out.Stats(), l.addr
		ch <- prometheus.MustNewConstMetric(evidenceEntriesDesc, prometheus.CounterValue, float64(st.Entries), addr)
		ch <- prometheus.MustNewConstMetric(evidenceBatchesDesc, prometheus.CounterValue, float64(st.Batches), addr, "signed")
		ch <- prometheus.MustNewConstMetric(evidenceBatchesDesc, prometheus.CounterValue, float64(st.Logged), addr, "logged")
		ch <- prometheus.MustNewConstMetric(evidenceBatchesDesc, prometheus.CounterValue, float64(st.Refused), addr, "refused")
		ch <- prometheus.MustNewConstMetric(evidenceHeldDesc, prometheus.GaugeValue, float64(st.Held), addr)
		ch <- prometheus.MustNewConstMetric(evidenceDroppedDesc, prometheus.CounterValue, float64(st.Dropped), addr)
	}
}
