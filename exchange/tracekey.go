package exchange

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/babgate/bab/tracelog"
)

// traceSigner loads the trace log's key from the state file. On the first
// start it makes one and names the log: trace_origin, or the exchange's
// first name, "/trace/" and a random log id, so that the logs of several
// exchanges (replicas included) each have their own origin and key and
// can be checked side by side. The name is fixed for the log's life.
func (x *Exchange) traceSigner() (note.Signer, error) {
	skey, _, err := x.store.TraceLogKey()
	if err != nil {
		return nil, err
	}
	if skey == "" {
		origin := x.cfg.TraceOrigin
		if origin == "" {
			origin = defaultTraceOrigin(x.cfg.Names)
		}
		var vkey string
		if skey, vkey, err = tracelog.NewKey(origin); err != nil {
			return nil, fmt.Errorf("exchange: trace log key: %w", err)
		}
		if err := x.store.SetTraceLogKey(skey, vkey); err != nil {
			return nil, err
		}
		x.log.Info("began the trace log with a new key; give its verifier key to whoever checks receipts (bab-exchange trace key)", "subsys", "trace", "origin", origin, "key", vkey)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("exchange: the trace log key in the state file: %w", err)
	}
	if o := x.cfg.TraceOrigin; o != "" && o != s.Name() {
		return nil, fmt.Errorf("exchange: trace_origin is %q, but this exchange's trace log is %q, named when it began, and its name cannot change (every checkpoint and receipt carries it): set trace_origin to %q or remove it", o, s.Name(), s.Name())
	}
	return s, nil
}

func defaultTraceOrigin(names []string) string {
	name := "exchange"
	if len(names) > 0 {
		name = names[0]
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	return name + "/trace/" + hex.EncodeToString(id[:])
}
