package evidence

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// fakeExchange takes an outbox's frames, checks them and remembers them;
// it acknowledges on demand.
type fakeExchange struct {
	t    *testing.T
	mu   sync.Mutex
	down bool
	got  []*wire.Evidence
	// seen counts each batch (key, number) received, resent ones included.
	seen map[[40]byte]int
}

var errDown = errors.New("not connected")

func (x *fakeExchange) send(payload []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.down {
		return errDown
	}
	var e wire.Evidence
	if err := e.UnmarshalBinary(payload); err != nil {
		x.t.Errorf("frame: %v", err)
		return nil
	}
	var c KeyCert
	var b Batch
	if err := c.UnmarshalBinary(e.Cert); err != nil || c.Verify() != nil {
		x.t.Errorf("certificate: %v", err)
	}
	if err := b.UnmarshalBinary(e.Batch); err != nil || b.Verify(&c) != nil {
		x.t.Errorf("batch: %v", err)
	}
	if err := b.VerifyEntries(e.Entries); err != nil {
		x.t.Errorf("entries: %v", err)
	}
	var k [40]byte
	copy(k[:], b.Cert[:])
	k[39] = byte(b.Number)
	if x.seen == nil {
		x.seen = map[[40]byte]int{}
	}
	if x.seen[k]++; x.seen[k] == 1 {
		x.got = append(x.got, &e)
	}
	return nil
}

// ackAll acknowledges every batch received so far, with err.
func (x *fakeExchange) ackAll(o *Outbox, err string, retry bool) {
	x.mu.Lock()
	got := append([]*wire.Evidence(nil), x.got...)
	x.mu.Unlock()
	for _, e := range got {
		var b Batch
		_ = b.UnmarshalBinary(e.Batch)
		o.Ack(wire.EvidenceAck{Key: b.Cert[:], Number: b.Number, Error: err, Retry: retry})
	}
}

func (x *fakeExchange) entries() (n int, dropped uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range x.got {
		var b Batch
		_ = b.UnmarshalBinary(e.Batch)
		n += len(e.Entries)
		dropped += b.Dropped
	}
	return n, dropped
}

func newOutbox(t *testing.T, x *fakeExchange) *Outbox {
	s, err := NewSigner("MA/MUN/RABAT:hq", applianceKey(t))
	if err != nil {
		t.Fatal(err)
	}
	o := NewOutbox(s, x.send, slog.New(slog.NewTextHandler(io.Discard, nil)))
	o.Every = 10 * time.Millisecond
	return o
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOutboxBatchesAndKeepsUntilLogged: entries go out in signed batches
// of at most MaxBatch; they are held until acknowledged, sent again when
// the tunnel comes back, and dropped only beyond the limit, which the
// next batch declares.
func TestOutboxBatchesAndKeepsUntilLogged(t *testing.T) {
	x := &fakeExchange{t: t}
	o := newOutbox(t, x)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx)

	e := sampleEntry()
	for range 2500 {
		o.Add(e)
	}
	waitUntil(t, "2500 entries sent", func() bool { n, _ := x.entries(); return n == 2500 })
	for _, f := range x.got {
		if len(f.Entries) > MaxBatch {
			t.Fatalf("a batch of %d entries", len(f.Entries))
		}
	}
	if st := o.Stats(); st.Held != 2500 {
		t.Fatalf("before any acknowledgement: %+v", st)
	}
	x.ackAll(o, "", false)
	if st := o.Stats(); st.Held != 0 || st.Logged != uint64(len(x.got)) || st.Entries != 2500 {
		t.Fatalf("after the acknowledgements: %+v", st)
	}

	// The tunnel goes down: entries are kept, and go when it is back.
	x.mu.Lock()
	x.down, x.got, x.seen = true, nil, nil
	x.mu.Unlock()
	o.Add(e)
	o.Add(e)
	time.Sleep(50 * time.Millisecond)
	if n, _ := x.entries(); n != 0 || o.Stats().Held != 2 {
		t.Fatalf("while down: %d sent, %+v", n, o.Stats())
	}
	x.mu.Lock()
	x.down = false
	x.mu.Unlock()
	o.Connected()
	waitUntil(t, "the kept entries sent", func() bool { n, _ := x.entries(); return n == 2 })

	// Sent but never acknowledged: sent again on reconnection.
	o.Connected()
	waitUntil(t, "the batch sent again", func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, n := range x.seen {
			if n >= 2 {
				return true
			}
		}
		return false
	})
	// Could not be logged now: kept. Refused: gone, counted.
	x.ackAll(o, "the trace is full", true)
	if o.Stats().Held != 2 {
		t.Fatalf("after a retry answer: %+v", o.Stats())
	}
	// The two entries made one batch or two, as the ticker fell between
	// the two Adds: each is refused once.
	x.mu.Lock()
	batches := uint64(len(x.got))
	x.mu.Unlock()
	x.ackAll(o, "does not verify", false)
	if st := o.Stats(); st.Held != 0 || st.Refused != batches {
		t.Fatalf("after a refusal: %+v", st)
	}

	// Beyond the limit: dropped, counted and declared in the next batch.
	x.mu.Lock()
	x.got, x.seen = nil, nil
	x.mu.Unlock()
	o.mu.Lock()
	o.Limit = 10
	o.mu.Unlock()
	for range 15 {
		o.Add(e)
	}
	waitUntil(t, "10 entries sent", func() bool { n, _ := x.entries(); return n == 10 })
	if st := o.Stats(); st.Dropped != 5 || st.Held != 10 {
		t.Fatalf("over the limit: %+v", st)
	}
	x.ackAll(o, "", false)
	o.Add(e)
	waitUntil(t, "the next batch", func() bool { n, _ := x.entries(); return n == 11 })
	if _, dropped := x.entries(); dropped != 5 {
		t.Fatalf("the batches declare %d dropped entries, want 5", dropped)
	}
}

// TestOutboxFlush: a stopping appliance sends what it holds and waits for
// the acknowledgements, or gives up at its deadline.
func TestOutboxFlush(t *testing.T) {
	x := &fakeExchange{t: t}
	o := newOutbox(t, x)
	o.Add(sampleEntry())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if o.Flush(ctx) {
		t.Fatal("flushed with no acknowledgement")
	}
	go func() {
		waitUntil(t, "the batch", func() bool { n, _ := x.entries(); return n == 1 })
		x.ackAll(o, "", false)
	}()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if !o.Flush(ctx2) {
		t.Fatal("not flushed once acknowledged")
	}
}
