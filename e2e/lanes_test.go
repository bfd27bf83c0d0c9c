package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/pathsim"
)

// lanesUp is how many of a's lanes to its one exchange address are up.
func lanesUp(a *lab.Appliance) int {
	st, err := a.Status()
	if err != nil || len(st.Tunnels) != 1 {
		return -1
	}
	return st.Tunnels[0].LanesUp
}

// download is one request for size bytes of the pattern, which reads a
// first part, says so on started, waits for go, and reads the rest.
type download struct {
	exact bool  // the whole answer came, byte for byte
	err   error // why it ended early; the bytes before were the pattern's
}

func startDownload(l *lab.Lab, size int64, started chan<- struct{}, proceed <-chan struct{}, done chan<- download) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := download{}
	defer func() { done <- d }()
	req, err := l.Request(ctx, "GET", "/bytes?n="+strconv.FormatInt(size, 10), nil)
	if err != nil {
		d.err = err
		started <- struct{}{}
		return
	}
	req.Header.Set("Bab-Timeout", "60s")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.err = err
		started <- struct{}{}
		return
	}
	defer resp.Body.Close()
	first := make([]byte, 64<<10)
	_, err = io.ReadFull(resp.Body, first)
	started <- struct{}{}
	if err != nil || resp.StatusCode != http.StatusOK {
		d.err = err
		return
	}
	<-proceed
	d.exact, d.err = lab.PatternEqual(io.MultiReader(bytes.NewReader(first), resp.Body), size)
}

// TestLaneLostOthersCarry keeps four lanes from each appliance to the
// exchange, through a path, and black-holes one of the consumer's lanes
// while eight downloads are in flight, two on each lane. The six on the
// other lanes must complete byte for byte; the two on the lost lane fail
// (no byte of them wrong); new requests go over the lanes left without a
// failure; and the lost lane comes back on a new connection.
func TestLaneLostOthersCarry(t *testing.T) {
	l := newLab(t, lab.Options{Lanes: 4})
	path, err := pathsim.New(l.Exchange.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(path.Close)
	behind(t, l, l.Consumer, path.Addr)
	within(t, 30*time.Second, "the consumer's four lanes up", func() bool { return lanesUp(l.Consumer) == 4 })
	consumerLanes := path.UDPClients()
	behind(t, l, l.Provider, path.Addr)
	within(t, 30*time.Second, "the provider's four lanes up", func() bool { return lanesUp(l.Provider) == 4 })
	ok := func() bool { return try(l, "GET", "/citizens/42", nil, 5*time.Second).status == http.StatusOK }
	within(t, 30*time.Second, "a first request through the path", ok)
	if len(consumerLanes) != 4 {
		t.Fatalf("the consumer's lanes came from %d sockets, want 4: %v", len(consumerLanes), consumerLanes)
	}
	st, err := l.Consumer.Status()
	if err != nil || st.Tunnels[0].Lanes != 4 || len(st.Lanes) != 4 {
		t.Fatalf("consumer status: %+v, %v; want one address with 4 lanes", st, err)
	}

	const n, size = 8, 4 << 20
	started, proceed, done := make(chan struct{}, n), make(chan struct{}), make(chan download, n)
	for range n {
		go startDownload(l, size, started, proceed, done)
	}
	for range n {
		<-started
	}
	cut := time.Now()
	path.BlockUDPClient(consumerLanes[0], true)
	close(proceed)
	var exact, failed int
	for range n {
		d := <-done
		switch {
		case d.exact:
			exact++
		case d.err != nil:
			failed++
		default:
			t.Error("a download's bytes differ from the backend's")
		}
	}
	t.Logf("%d downloads in flight on 4 lanes, one lane black-holed: %d complete byte for byte, %d failed (after %s)", n, exact, failed, time.Since(cut).Round(time.Millisecond))
	if exact < n-n/4 || failed == 0 {
		t.Errorf("%d downloads exact and %d failed; want the %d on the three other lanes exact, and those on the lost lane failed", exact, failed, n-n/4)
	}
	// The lost lane is known dead once its requests failed: new requests
	// go over the others.
	for i := range 20 {
		if o := try(l, "GET", "/citizens/42", nil, 10*time.Second); o.status != http.StatusOK {
			t.Fatalf("request %d after the lane was lost: %v %s", i, o, o.body)
		}
	}
	within(t, 30*time.Second, "the lost lane back", func() bool { return lanesUp(l.Consumer) == 4 })
	t.Logf("the lost lane was back %s after the cut, on a new connection", time.Since(cut).Round(time.Millisecond))
	clients := path.UDPClients()
	if len(clients) < 9 {
		t.Errorf("the path saw %d client sockets, want a ninth for the lane that came back: %v", len(clients), clients)
	}
	for i := range 8 {
		if o := try(l, "GET", "/citizens/42", nil, 10*time.Second); o.status != http.StatusOK {
			t.Fatalf("request %d once the lane was back: %v %s", i, o, o.body)
		}
	}
	path.BlockUDPClient(consumerLanes[0], false)

	// A push reaches every lane as a delta; each lane applies it or finds
	// it applied already, and acknowledges it, with no lane asking for
	// the whole bundle.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	count := func(name, label, value string) float64 {
		fam, err := lab.Scrape(ctx, l.Exchange.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := fam.Value(name, label, value)
		return v
	}
	deltas, applied := count("bab_exchange_policy_deltas_total", "result", "sent"), count("bab_exchange_policy_acks_total", "result", "applied")
	v, err := l.Push(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AwaitPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "every lane's acknowledgement", func() bool {
		return count("bab_exchange_policy_acks_total", "result", "applied")-applied >= 8
	})
	if d := count("bab_exchange_policy_deltas_total", "result", "sent") - deltas; d != 8 {
		t.Errorf("a push sent %v deltas, want one per lane: 8", d)
	}
	for _, a := range []*lab.Appliance{l.Consumer, l.Provider} {
		if strings.Contains(a.Log(), "asking for the whole bundle") {
			t.Errorf("%s asked for a whole bundle on a lane", a.ID)
		}
	}
}
