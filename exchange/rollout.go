package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
)

// Stage says which appliances get a bundle first: those of one member,
// one appliance, or a stable percentage of the fleet.
type Stage struct {
	Member    string `json:"member,omitempty"`
	Appliance string `json:"appliance,omitempty"`
	Percent   int    `json:"percent,omitempty"`
}

// ParseStage reads "member:MA/MUN/RABAT", "appliance:MA/MUN/RABAT:hq" or
// "percent:10".
func ParseStage(s string) (Stage, error) {
	kind, val, _ := strings.Cut(s, ":")
	switch kind {
	case "member":
		if _, err := ident.ParseMember(val); err != nil {
			return Stage{}, err
		}
		return Stage{Member: val}, nil
	case "appliance":
		if _, err := ident.ParseAppliance(val); err != nil {
			return Stage{}, err
		}
		return Stage{Appliance: val}, nil
	case "percent":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 99 {
			return Stage{}, fmt.Errorf("percent:%s: give 1 to 99 (100 is a plain push)", val)
		}
		return Stage{Percent: n}, nil
	}
	return Stage{}, fmt.Errorf("stage %q: use member:MEMBER, appliance:APPLIANCE or percent:N", s)
}

func (st Stage) String() string {
	switch {
	case st.Member != "":
		return "member:" + st.Member
	case st.Appliance != "":
		return "appliance:" + st.Appliance
	}
	return fmt.Sprintf("percent:%d", st.Percent)
}

// includes reports whether an appliance is in the stage. A percentage
// picks by a hash of the identifier, so the same appliances are picked
// every time and across exchange restarts.
func (st Stage) includes(id ident.Appliance) bool {
	switch {
	case st.Member != "":
		return id.Member.String() == st.Member
	case st.Appliance != "":
		return id.String() == st.Appliance
	}
	h := fnv.New32a()
	h.Write([]byte(id.String()))
	return int(h.Sum32()%100) < st.Percent
}

// rollout is a staged bundle waiting to be promoted or aborted.
type rollout struct {
	Signed  []byte    `json:"signed"`
	Stage   Stage     `json:"stage"`
	Started time.Time `json:"started"`
	policy  *policy.Policy
}

// Errors of the rollout commands.
var (
	ErrRolloutRunning = errors.New("a staged rollout is in progress: promote or abort it first (bab-exchange policy rollout status)")
	ErrNoRollout      = errors.New("no staged rollout is in progress")
)

// policyFor is the policy the exchange enforces for an appliance: the
// staged one for appliances that applied it, the current one otherwise.
func (x *Exchange) policyFor(s *session) *policy.Policy {
	if r := x.staged.Load(); r != nil && s.applied.Load() == r.policy.Version() {
		return r.policy
	}
	return x.policy.Load()
}

// Stage verifies a signed bundle like Push and sends it only to the
// appliances in stage; the rest keep the current bundle until Promote.
func (x *Exchange) Stage(signed []byte, stage Stage) (*PushResult, error) {
	x.pushMu.Lock()
	defer x.pushMu.Unlock()
	if x.staged.Load() != nil {
		return nil, ErrRolloutRunning
	}
	p, err := x.verifyPush(signed)
	if err != nil {
		return nil, err
	}
	if p.Rotates() {
		return nil, errors.New("a bundle that rotates the ops keys goes to the whole fleet: push it without --stage")
	}
	out, err := newFanout(p, x.policy.Load())
	if err != nil {
		return nil, err
	}
	r := &rollout{Signed: signed, Stage: stage, Started: time.Now().UTC(), policy: p}
	raw, _ := json.Marshal(r)
	if err := x.store.SetStaged(raw); err != nil {
		return nil, err
	}
	x.staged.Store(r)
	n := 0
	for _, s := range x.allSessions() {
		if stage.includes(s.id) && s.applied.Load() < p.Version() {
			n++
			go x.send(s, out)
		}
	}
	x.log.Info("policy staged", "version", p.Version(), "stage", stage.String(), "pushed_to", n)
	return &PushResult{Version: p.Version(), Expires: p.Expires(), PushedTo: n}, nil
}

// RolloutStatus is what ops watch during a rollout.
type RolloutStatus struct {
	Version  uint64            `json:"version"`
	Current  uint64            `json:"current"`
	Stage    string            `json:"stage"`
	Started  time.Time         `json:"started"`
	Targets  int               `json:"targets"` // connected appliances in the stage
	Applied  int               `json:"applied"` // of those, how many enforce the staged version
	Refusals map[string]string `json:"refusals,omitempty"`
}

// Rollout says how the staged bundle is doing.
func (x *Exchange) Rollout() (*RolloutStatus, error) {
	r := x.staged.Load()
	if r == nil {
		return nil, ErrNoRollout
	}
	st := &RolloutStatus{Version: r.policy.Version(), Stage: r.Stage.String(), Started: r.Started, Refusals: map[string]string{}}
	if p := x.policy.Load(); p != nil {
		st.Current = p.Version()
	}
	for _, s := range x.allSessions() {
		if !r.Stage.includes(s.id) {
			continue
		}
		st.Targets++
		if s.applied.Load() == st.Version {
			st.Applied++
		} else if e := s.ackErr.Load(); e != nil {
			st.Refusals[s.id.String()] = *e
		}
	}
	return st, nil
}

// Promote sends the staged bundle to the whole fleet and makes it current.
func (x *Exchange) Promote() (*PushResult, error) {
	x.pushMu.Lock()
	r := x.staged.Load()
	x.pushMu.Unlock()
	if r == nil {
		return nil, ErrNoRollout
	}
	return x.push(r.Signed, true, false)
}

// Abort ends a rollout with a new bundle for everyone, usually the old
// content signed again with a version above the staged one: appliances
// never go back to a lower version, so a rollback is a step forward.
func (x *Exchange) Abort(signed []byte) (*PushResult, error) {
	if x.staged.Load() == nil {
		return nil, ErrNoRollout
	}
	if r := x.staged.Load(); r != nil {
		if s, err := policy.ParseSigned(signed); err == nil {
			if b, err := s.Bundle(); err == nil && b.Version <= r.policy.Version() {
				return nil, fmt.Errorf("%w: abort with a version above the staged v%d", policy.ErrNotNewer, r.policy.Version())
			}
		}
	}
	return x.push(signed, true, false)
}
