package evidence

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/babgate/bab/wire"
)

// Outbox collects an appliance's entries for one exchange, signs them in
// batches (every Every, or as soon as MaxBatch are waiting) and sends each
// batch on that exchange's control stream until the exchange acknowledges
// it. Nothing on a request's path waits for it: Add appends to a slice
// under a lock, and the signing, hashing and sending run in Run's
// goroutine.
//
// Memory is bounded: at most Limit entries are held, signed or not, until
// the exchange has logged them. While the exchange cannot be reached they
// are kept and sent again when the tunnel comes back (Connected); beyond
// Limit new entries are dropped, counted, logged, and declared in the next
// batch (Batch.Dropped), so that the loss is signed into the log rather
// than silent. What a crash loses is what was held: the entries of the
// last Every and the batches not yet acknowledged.
type Outbox struct {
	signer *Signer
	send   func(payload []byte) error
	log    *slog.Logger
	// Every is how often the entries waiting are signed; Limit how many
	// are held at most; ResendAfter how long a batch sent and not
	// acknowledged waits before it is sent again (the exchange logs a
	// batch once, however often it comes).
	Every       time.Duration
	Limit       int
	ResendAfter time.Duration

	wake chan struct{}
	mu   sync.Mutex
	open [][]byte // entries not signed yet
	// dropped counts entries dropped since the last batch was signed;
	// overflowing says the last Add dropped (to log once per episode).
	dropped     uint64
	overflowing bool
	pending     []*pendingBatch // signed, not acknowledged, oldest first
	held        int             // entries in open and pending
	stats       Stats
}

type pendingBatch struct {
	s       *Sealed
	payload []byte
	sentAt  time.Time // zero: to send
}

// Stats are an outbox's counts since it started, for metrics and status.
type Stats struct {
	Entries uint64 `json:"entries"` // entries added
	Dropped uint64 `json:"dropped"` // entries dropped: the outbox was full
	Batches uint64 `json:"batches"` // batches signed
	Logged  uint64 `json:"logged"`  // batches the exchange logged
	Refused uint64 `json:"refused"` // batches the exchange refused for good
	Held    int    `json:"held"`    // entries held now, signed or not
}

// Defaults of an outbox.
const (
	DefaultEvery       = time.Second
	DefaultLimit       = 64 * MaxBatch
	DefaultResendAfter = 30 * time.Second
)

// NewOutbox makes an outbox that signs with signer and sends a batch's
// evidence frame payload with send, which fails while the control stream
// is down.
func NewOutbox(signer *Signer, send func(payload []byte) error, log *slog.Logger) *Outbox {
	return &Outbox{signer: signer, send: send, log: log, Every: DefaultEvery, Limit: DefaultLimit, ResendAfter: DefaultResendAfter,
		wake: make(chan struct{}, 1)}
}

// Add keeps an entry for the next batch. It never waits.
func (o *Outbox) Add(e *Entry) {
	b := e.AppendBinary(make([]byte, 0, 256))
	o.mu.Lock()
	o.stats.Entries++
	if o.held >= o.Limit {
		o.dropped++
		o.stats.Dropped++
		first := !o.overflowing
		o.overflowing = true
		o.mu.Unlock()
		if first {
			o.log.Error("evidence dropped: the exchange has not acknowledged the batches held, and no more are kept; the next batch declares how many were lost", "held", o.Limit)
		}
		return
	}
	o.overflowing = false
	o.open = append(o.open, b)
	o.held++
	full := len(o.open) >= MaxBatch
	o.mu.Unlock()
	if full {
		o.poke()
	}
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Stats returns the outbox's counts.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.stats
	s.Held = o.held
	return s
}

// Run signs and sends until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	tick := time.NewTicker(o.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-o.wake:
		}
		o.seal(time.Now())
		o.sendDue(time.Now())
	}
}

// Flush signs what is waiting, sends every batch not acknowledged, and
// waits until the exchange acknowledged them all or ctx ends: what a
// stopping appliance does before it closes its tunnels. It reports
// whether nothing is left.
func (o *Outbox) Flush(ctx context.Context) bool {
	o.seal(time.Now())
	o.mu.Lock()
	for _, p := range o.pending {
		p.sentAt = time.Time{}
	}
	o.mu.Unlock()
	for {
		o.sendDue(time.Now())
		o.mu.Lock()
		left := o.held
		o.mu.Unlock()
		if left == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			o.log.Warn("stopping with evidence the exchange has not acknowledged: it is lost", "entries", left)
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// seal signs the entries waiting, MaxBatch at a time.
func (o *Outbox) seal(now time.Time) {
	for {
		o.mu.Lock()
		n := min(len(o.open), MaxBatch)
		if n == 0 {
			o.mu.Unlock()
			return
		}
		entries := o.open[:n:n]
		dropped := o.dropped
		o.mu.Unlock()
		s, err := o.signer.Seal(entries, dropped, now)
		if err != nil {
			// The entries stay, and count against the limit: the next tick
			// tries again.
			o.log.Error("signing a batch of evidence failed; it is kept and tried again", "entries", n, "err", err)
			return
		}
		payload, err := (&wire.Evidence{Cert: s.Cert, Batch: s.Head, Entries: s.Entries}).MarshalBinary()
		if err != nil {
			o.log.Error("encoding a batch of evidence failed", "err", err)
			return
		}
		o.mu.Lock()
		o.open = o.open[n:]
		if len(o.open) == 0 {
			o.open = nil // let the old backing array go
		}
		o.dropped -= dropped
		o.pending = append(o.pending, &pendingBatch{s: s, payload: payload})
		o.stats.Batches++
		o.mu.Unlock()
	}
}

// sendDue sends the batches never sent on this connection and those sent
// more than ResendAfter ago, oldest first, until one fails.
func (o *Outbox) sendDue(now time.Time) {
	o.mu.Lock()
	var due []*pendingBatch
	for _, p := range o.pending {
		if p.sentAt.IsZero() || now.Sub(p.sentAt) >= o.ResendAfter {
			p.sentAt = now
			due = append(due, p)
		}
	}
	o.mu.Unlock()
	for i, p := range due {
		if err := o.send(p.payload); err != nil {
			o.mu.Lock()
			for _, q := range due[i:] {
				q.sentAt = time.Time{}
			}
			o.mu.Unlock()
			return
		}
	}
}

// Connected says the tunnel came up: every batch not acknowledged goes
// again, the exchange's answer to the earlier sending may never come.
func (o *Outbox) Connected() {
	o.mu.Lock()
	for _, p := range o.pending {
		p.sentAt = time.Time{}
	}
	o.mu.Unlock()
	o.poke()
}

// Ack takes the exchange's answer to a batch.
func (o *Outbox) Ack(a wire.EvidenceAck) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, p := range o.pending {
		if p.s.Number != a.Number || !bytes.Equal(p.s.Key[:], a.Key) {
			continue
		}
		switch {
		case a.Error != "" && a.Retry:
			p.sentAt = time.Now() // sent again after ResendAfter
			o.log.Warn("the exchange could not log a batch of evidence now; it is kept and sent again", "batch", a.Number, "reason", a.Error)
			return
		case a.Error != "":
			o.stats.Refused++
			o.log.Error("the exchange refused a batch of evidence", "batch", a.Number, "entries", len(p.s.Entries), "reason", a.Error)
		default:
			o.stats.Logged++
		}
		o.held -= len(p.s.Entries)
		o.pending = append(o.pending[:i:i], o.pending[i+1:]...)
		return
	}
}
