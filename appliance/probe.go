package appliance

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/babgate/bab/agent/tunnel"
)

// Probe checks every exchange this appliance is configured for, with its
// own identity, beside the running tunnels (bab doctor asks for it through
// the control socket while the service holds the state file and the key).
// The probes run in parallel, each within tunnel.ProbeTimeout.
func (a *Appliance) Probe(ctx context.Context) []tunnel.ProbeResult {
	out := make([]tunnel.ProbeResult, len(a.links))
	var wg sync.WaitGroup
	for i, l := range a.links {
		wg.Go(func() { out[i] = l.lanes[0].Probe(ctx, tunnel.ProbeTimeout) })
	}
	wg.Wait()
	return out
}

// serveProbe answers POST /v1/probe on the control socket.
func (a *Appliance) serveProbe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(a.Probe(r.Context()))
}
