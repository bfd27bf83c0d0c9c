package exchange

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/tracelog"
	"github.com/babgate/bab/wire"
)

// The appliances' evidence (package evidence): each appliance sends its
// signed batches on its control stream; the exchange checks each against
// the policy it enforces for that appliance — the key certificate signed
// by the appliance key the policy binds to it, the batch by the certified
// key, every entry the appliance's own word — and appends it to the trace
// log as a leaf of its own, then acknowledges it. A batch that does not
// verify is refused, logged and counted, and never stored as evidence.

// maxEvidenceQueue bounds the checked batches waiting for the trace
// writer; beyond, a batch is answered "retry" and its appliance keeps it.
const maxEvidenceQueue = 1024

// evidenceQueue is the tracer's queue of checked batches.
type evidenceQueue struct {
	mu      sync.Mutex
	pending []queuedBatch
	// append writes batches: the store's, or a test's.
	append func([]store.EvidenceBatch) ([]store.LoggedBatch, int64, error)
}

type queuedBatch struct {
	b    store.EvidenceBatch
	done func(store.LoggedBatch, error)
}

// addEvidence queues a checked batch for the writer, which calls done
// once it is written (or failed); it reports false when the queue is full.
func (t *tracer) addEvidence(b store.EvidenceBatch, done func(store.LoggedBatch, error)) bool {
	t.ev.mu.Lock()
	defer t.ev.mu.Unlock()
	if len(t.ev.pending) >= maxEvidenceQueue {
		return false
	}
	t.ev.pending = append(t.ev.pending, queuedBatch{b: b, done: done})
	return true
}

// flushEvidence writes the batches queued, in one transaction, and
// answers each. A failed write answers "retry": the appliances keep their
// batches and send them again.
func (t *tracer) flushEvidence() {
	t.ev.mu.Lock()
	q := t.ev.pending
	t.ev.pending = nil
	t.ev.mu.Unlock()
	if len(q) == 0 {
		return
	}
	bs := make([]store.EvidenceBatch, len(q))
	for i := range q {
		bs[i] = q[i].b
	}
	logged, size, err := t.ev.append(bs)
	if err != nil {
		t.m.traceWriteErrors.Inc()
		t.log.Error("writing evidence batches failed; their appliances send them again", "batches", len(q), "err", err)
	} else {
		t.m.traceRecords.Set(float64(size))
	}
	for i := range q {
		var l store.LoggedBatch
		if err == nil {
			l = logged[i]
		}
		q[i].done(l, err)
	}
}

func newEvidenceMetrics() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bab_exchange_evidence_batches_total",
		Help: `Appliances' evidence batches, by result: "logged", "again" (logged before), "refused" (did not verify), "busy" (queue full or write failed: the appliance sends it again).`,
	}, []string{"result"})
	for _, r := range []string{"logged", "again", "refused", "busy"} {
		c.WithLabelValues(r) // present from the start, at 0
	}
	return c
}

// takeEvidence checks an evidence frame from the appliance of session s
// and queues its batch for the log; the appliance gets an
// acknowledgement once it is logged, or refused.
func (x *Exchange) takeEvidence(s *session, payload []byte) {
	log := s.log.With("subsys", "evidence")
	ack := func(a wire.EvidenceAck) {
		go func() {
			if err := s.send(wire.FrameEvidenceAck, a); err != nil {
				log.Debug("evidence acknowledgement not sent", "batch", a.Number, "err", err)
			}
		}()
	}
	refuse := func(key []byte, number uint64, err error) {
		x.metrics.evidence.WithLabelValues("refused").Inc()
		log.Warn("evidence batch refused: it does not verify, and is not logged", "batch", number, "err", err)
		if key != nil {
			ack(wire.EvidenceAck{Key: key, Number: number, Error: err.Error()})
		}
	}
	var f wire.Evidence
	var head evidence.Batch
	if err := f.UnmarshalBinary(payload); err != nil {
		refuse(nil, 0, err)
		return
	}
	if err := head.UnmarshalBinary(f.Batch); err != nil {
		refuse(nil, 0, fmt.Errorf("the batch: %w", err))
		return
	}
	key, number := head.Cert[:], head.Number
	b, p, err := x.checkEvidence(s, &f, &head)
	if err != nil {
		refuse(key, number, err)
		return
	}
	queued := x.trace.addEvidence(b, func(l store.LoggedBatch, err error) {
		switch {
		case err != nil:
			x.metrics.evidence.WithLabelValues("busy").Inc()
			ack(wire.EvidenceAck{Key: key, Number: number, Error: "the exchange could not write it: " + err.Error(), Retry: true})
		case l.Again:
			x.metrics.evidence.WithLabelValues("again").Inc()
			ack(wire.EvidenceAck{Key: key, Number: number, Index: l.Index})
		default:
			x.metrics.evidence.WithLabelValues("logged").Inc()
			log.Debug("evidence batch logged", "batch", number, "entries", len(f.Entries), "record", l.Index, "policy_version", p)
			ack(wire.EvidenceAck{Key: key, Number: number, Index: l.Index})
		}
	})
	if !queued {
		x.metrics.evidence.WithLabelValues("busy").Inc()
		ack(wire.EvidenceAck{Key: key, Number: number, Error: "the exchange's evidence queue is full", Retry: true})
	}
}

// checkEvidence checks a batch against the policy the exchange enforces
// for the appliance of session s, and returns it ready to log, with the
// policy version that bound its key.
func (x *Exchange) checkEvidence(s *session, f *wire.Evidence, head *evidence.Batch) (store.EvidenceBatch, uint64, error) {
	var cert evidence.KeyCert
	if err := cert.UnmarshalBinary(f.Cert); err != nil {
		return store.EvidenceBatch{}, 0, fmt.Errorf("the key certificate: %w", err)
	}
	p := x.policyFor(s)
	switch {
	case cert.Appliance != s.id.String():
		return store.EvidenceBatch{}, 0, fmt.Errorf("%w: it is %q's, on %s's tunnel", evidence.ErrCertificate, cert.Appliance, s.id)
	case p == nil:
		return store.EvidenceBatch{}, 0, fmt.Errorf("%w: the exchange has no policy to check its key against", evidence.ErrCertificate)
	}
	if err := cert.Verify(); err != nil {
		return store.EvidenceBatch{}, 0, err
	}
	if err := cert.Bound(func(name string) (string, bool) {
		a, err := ident.ParseAppliance(name)
		if err != nil {
			return "", false
		}
		return p.ApplianceKey(a)
	}); err != nil {
		return store.EvidenceBatch{}, 0, fmt.Errorf("%w (policy v%d)", err, p.Version())
	}
	if err := head.Verify(&cert); err != nil {
		return store.EvidenceBatch{}, 0, err
	}
	if head.At.After(time.Now().Add(seal.MaxSkew)) {
		return store.EvidenceBatch{}, 0, fmt.Errorf("%w: signed at %s, in the future", evidence.ErrBatch, head.At.Format(time.RFC3339))
	}
	if err := head.VerifyEntries(f.Entries); err != nil {
		return store.EvidenceBatch{}, 0, err
	}
	return store.EvidenceBatch{
		Leaf: tracelog.BatchRecord{At: time.Now().UTC(), Appliance: s.id.String(), Policy: p.Version(), Cert: f.Cert, Batch: f.Batch},
		Key:  cert.Hash(), Number: head.Number, Entries: f.Entries,
	}, p.Version(), nil
}
