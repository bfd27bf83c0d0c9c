// Package fleetsim runs many real appliances in one process against a
// lab's exchange, to measure how a policy push spreads over a fleet. Each
// simulated appliance is the appliance package itself: it enrolls with a
// software key, keeps its own QUIC tunnel, verifies every pushed bundle
// with its pinned ops keys and writes it to its own bbolt file. Only the
// process is shared; nothing on the path is mocked.
package fleetsim

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/babgate/bab/agent/enroll"
	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// Lanes is the simulated appliances' tunnels.lanes: one connection each,
// as the harness measures how a push spreads over appliances, and each
// lane of an appliance gets the push (the shipped 4 would multiply the
// connections and the pushes alike).
const Lanes = 1

const (
	enrollWorkers = 16                    // enrollments in flight at once
	pollEvery     = 2 * time.Millisecond  // acknowledgement polling
	ackLimit      = 60 * time.Second      // one push may take no longer
	stopLimit     = 30 * time.Second      // Close waits this long for the appliances
	connectPerApp = 20 * time.Millisecond // added to ackLimit when waiting for the fleet to connect
)

// Fleet is a set of running simulated appliances.
type Fleet struct {
	lab  *lab.Lab
	ids  []ident.Appliance
	keys []string // each appliance's key hash, by index
	apps []*appliance.Appliance
	// others are the appliances connected before the fleet (the lab's own),
	// which acknowledge pushes as well.
	others int
	logs   *Counter

	mu    sync.Mutex
	last  *policy.Policy // the last bundle this fleet pushed
	sizes Sizes

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start enrolls n appliances with the lab's exchange, each with its state
// under dir, runs them, and returns once all n have a tunnel up. The lab's
// exchange must allow software keys (lab.Options.SoftwareKeys).
func Start(ctx context.Context, l *lab.Lab, n int, dir string) (_ *Fleet, err error) {
	if n < 1 {
		return nil, errors.New("fleetsim: n must be at least 1")
	}
	before, err := acks(l, 0)
	if err != nil {
		return nil, fmt.Errorf("fleetsim: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	f := &Fleet{lab: l, ids: IDs(n), keys: make([]string, n), apps: make([]*appliance.Appliance, n), others: before.Connected,
		logs: &Counter{}, cancel: cancel}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()

	jobs := make(chan int)
	errs := make(chan error, enrollWorkers)
	var workers sync.WaitGroup
	for range min(enrollWorkers, n) {
		workers.Go(func() {
			for i := range jobs {
				a, err := f.enroll(ctx, i, filepath.Join(dir, f.ids[i].Name))
				if err != nil {
					errs <- fmt.Errorf("fleetsim: %s: %w", f.ids[i], err)
					return
				}
				f.apps[i] = a
				f.wg.Go(func() {
					if err := a.Run(rctx, nil); err != nil {
						f.logs.add(err)
					}
				})
			}
		})
	}
	var failed error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case failed = <-errs:
			break feed
		case <-ctx.Done():
			failed = ctx.Err()
			break feed
		}
	}
	close(jobs)
	workers.Wait()
	if failed != nil {
		return nil, failed
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}

	limit := ackLimit + time.Duration(n)*connectPerApp
	err = poll(ctx, limit, func() (bool, error) {
		a, err := acks(l, 0)
		return a.Connected >= f.others+n, err
	})
	if err != nil {
		return nil, fmt.Errorf("fleetsim: waiting for %d tunnels: %w", n, err)
	}
	return f, nil
}

// enroll does what bab enroll does for one appliance with a software key,
// then opens the appliance as bab serve would.
func (f *Fleet) enroll(ctx context.Context, i int, dir string) (*appliance.Appliance, error) {
	id := f.ids[i]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "bab.yaml")
	cfgText := fmt.Sprintf(`version: 1
state_dir: %s
admin:
  listen: 127.0.0.1:0
  socket: %s
console:
  socket: %s
gateway:
  listen: 127.0.0.1:0
tpm:
  device: none
log:
  level: warn
tunnels:
  lanes: %d
`, filepath.Join(dir, "state"), filepath.Join(dir, "admin.sock"), filepath.Join(dir, "console.sock"), Lanes)
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	tok, err := f.lab.CreateToken(id.Member, id.Name)
	if err != nil {
		return nil, err
	}
	key, err := keys.NewSoftware()
	if err != nil {
		return nil, err
	}
	resp, err := enroll.Enroll(ctx, f.lab.Exchange.Addr, tok, id.Name, key)
	if err != nil {
		return nil, err
	}
	if f.keys[i], err = policy.KeyHash(key.Signer.Public()); err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	err = st.SetIdentity(&store.Identity{
		Exchanges: []string{f.lab.Exchange.Addr}, KeyKind: string(key.Kind), KeyBlob: key.Blob,
		Appliance: resp.Appliance, Chain: resp.Chain, CA: resp.CA,
		OpsKeys: resp.OpsKeys, PolicyThreshold: resp.PolicyThreshold, EnrolledAt: time.Now().UTC(),
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("save identity: %w", err)
	}
	return appliance.New(cfg, f.logs.Logger())
}

// PushAndWait signs a bundle one version above the exchange's current one,
// listing every appliance of the fleet, pushes it through the exchange's
// admin socket and returns the time from the push until the exchange
// counts every connected appliance (the fleet and the lab's own) as having
// applied it. It then checks each simulated appliance's own status. The
// exchange sends appliances a delta against the bundle they hold, or, if
// whole is set, the whole bundle.
//
// Versions are taken from the exchange, not from the lab's counter: once a
// fleet has pushed, the lab's Push would offer a version that is not newer.
func (f *Fleet) PushAndWait(ctx context.Context, whole bool) (time.Duration, error) {
	var cur exchange.PolicyStatus
	if err := f.lab.Exchange.Call("GET", "/v1/policy", nil, &cur); err != nil {
		return 0, fmt.Errorf("fleetsim: %w", err)
	}
	v := cur.Version + 1
	sims := make([]policy.Appliance, len(f.ids))
	for i, id := range f.ids {
		sims[i] = policy.Appliance{ID: id, Key: f.keys[i]}
	}
	signed, err := policy.Sign(Bundle(f.lab, v, time.Now().UTC(), sims), f.lab.OpsKey)
	if err != nil {
		return 0, fmt.Errorf("fleetsim: %w", err)
	}
	raw, err := signed.Marshal()
	if err != nil {
		return 0, fmt.Errorf("fleetsim: %w", err)
	}
	path := "/v1/policy"
	if whole {
		path += "?whole=true"
	}
	start := time.Now()
	if err := f.lab.Exchange.Call("POST", path, raw, nil); err != nil {
		return 0, fmt.Errorf("fleetsim: push v%d: %w", v, err)
	}
	want := f.others + len(f.apps)
	var last exchange.PolicyAcks
	err = poll(ctx, ackLimit, func() (bool, error) {
		var err error
		last, err = acks(f.lab, v)
		return last.Acked >= want, err
	})
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("fleetsim: v%d acknowledged by %d of %d (%d connected): %w", v, last.Acked, want, last.Connected, err)
	}
	for i, st := range f.Statuses() {
		if st.Policy.Version < v {
			return took, fmt.Errorf("fleetsim: the exchange counted v%d as applied, but %s enforces v%d", v, f.ids[i], st.Policy.Version)
		}
	}
	return took, f.measure(signed)
}

// measure records what the exchange sent for signed, computed as it does:
// the whole bundle's frame, and the delta against the previous push.
func (f *Fleet) measure(signed *policy.Signed) error {
	p, err := signed.VerifyOver(policy.Trust{Keys: []ed25519.PublicKey{f.lab.OpsKey.Public().(ed25519.PublicKey)}}, time.Now(), nil)
	if err != nil {
		return fmt.Errorf("fleetsim: %w", err)
	}
	bin, err := signed.MarshalBinary()
	if err != nil {
		return err
	}
	frame, err := wire.PolicyFrame(bin)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizes.Whole = len(frame)
	if f.last != nil {
		d, err := policy.NewDelta(f.last, p)
		if err != nil {
			return err
		}
		raw, err := d.MarshalBinary()
		if err != nil {
			return err
		}
		f.sizes.Delta = len(raw)
	}
	f.last = p
	return nil
}

// Sizes is what one push of the fleet's bundle weighs on the wire, per
// appliance: the whole bundle's frame payload (compressed) and a delta
// against the previous version.
type Sizes struct{ Whole, Delta int }

// Sizes returns the sizes of the last bundle PushAndWait pushed.
func (f *Fleet) Sizes() Sizes {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sizes
}

// Len is the number of simulated appliances.
func (f *Fleet) Len() int { return len(f.apps) }

// Statuses returns every simulated appliance's status, in fleet order.
func (f *Fleet) Statuses() []appliance.Status {
	out := make([]appliance.Status, 0, len(f.apps))
	for _, a := range f.apps {
		out = append(out, a.Status())
	}
	return out
}

// Logs counts what the simulated appliances logged at warning and error
// level (their output is otherwise discarded).
func (f *Fleet) Logs() *Counter { return f.logs }

// Close stops every simulated appliance and waits (up to 30 s) until each
// has closed its tunnel and its state file.
func (f *Fleet) Close() {
	f.cancel()
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopLimit):
		f.logs.add(fmt.Errorf("fleetsim: appliances still running %s after Close", stopLimit))
	}
}

// acks asks the exchange how far version v has spread.
func acks(l *lab.Lab, v uint64) (exchange.PolicyAcks, error) {
	var a exchange.PolicyAcks
	err := l.Exchange.Call("GET", "/v1/policy/acks?version="+url.QueryEscape(strconv.FormatUint(v, 10)), nil, &a)
	return a, err
}

// poll calls f every pollEvery until it reports done, fails, or limit or
// ctx runs out.
func poll(ctx context.Context, limit time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		done, err := f()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", limit, ctx.Err())
		case <-t.C:
		}
	}
}
