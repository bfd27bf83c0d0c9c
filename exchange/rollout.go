package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/exchange/store"
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
// every time and across exchange restarts. It runs on every request during
// a rollout (policyFor), so it compares the identifier's parts rather than
// building its text.
func (st Stage) includes(id ident.Appliance) bool {
	switch {
	case st.Member != "":
		return memberIs(id.Member, st.Member)
	case st.Appliance != "":
		m, name, _ := strings.Cut(st.Appliance, ":")
		return id.Name == name && memberIs(id.Member, m)
	}
	return int(fnv32a(id.Member.Country, "/", id.Member.Class, "/", id.Member.Code, ":", id.Name)%100) < st.Percent
}

// memberIs reports whether m's text form is s.
func memberIs(m ident.Member, s string) bool {
	country, rest, _ := strings.Cut(s, "/")
	class, code, _ := strings.Cut(rest, "/")
	return !m.IsZero() && m.Country == country && m.Class == class && m.Code == code
}

// fnv32a is FNV-1a over the concatenation of parts: the hash the stages
// have always picked by, over an identifier's text.
func fnv32a(parts ...string) uint32 {
	h := uint32(2166136261)
	for _, s := range parts {
		for i := range len(s) {
			h ^= uint32(s[i])
			h *= 16777619
		}
	}
	return h
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

// policyFor is the policy the exchange enforces for an appliance: the one
// it assigned the appliance, which is the staged bundle inside a rollout's
// stage and the current one everywhere else. What the appliance says it
// applied (its hello, its acks) plays no part: a consumer could claim the
// staged bundle to get what only that allows, or an old one to keep what
// the staged one takes away.
func (x *Exchange) policyFor(s *session) *policy.Policy {
	return assigned(x.policy.Load(), x.staged.Load(), s.id)
}

// bringUp sends a newly connected appliance what it misses of the bundle
// the exchange assigned it: the current one (and rotations missed), then,
// inside a rollout's stage, the staged one. An appliance that claims a
// bundle it was not assigned (above the current one outside the stage, or
// other than the staged one inside) is sent the assigned one, which an
// honest appliance would already hold; it is enforced under that anyway.
func (x *Exchange) bringUp(s *session, reg *store.Appliance) {
	claimed := s.hello.PolicyVersion
	signed, cur := x.signed.Load(), x.policy.Load()
	if signed == nil || cur == nil {
		return
	}
	if cur.Version() > claimed {
		x.catchUp(s, reg, *signed, cur.Version())
	}
	r := x.staged.Load()
	switch staged := r != nil && r.Stage.includes(s.id); {
	case staged && claimed != r.policy.Version():
		x.pushTo(s, r.Signed)
	case !staged && claimed > cur.Version():
		s.log.Warn("appliance claims a policy version the exchange did not assign it; sending and enforcing the assigned one", "claimed", claimed, "assigned", cur.Version())
		x.pushTo(s, *signed)
	}
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
		if stage.includes(s.id) && s.applied.Load() != p.Version() && !s.replaced.Load() {
			n++
			go x.send(s, out)
		}
	}
	x.log.Info("policy staged", "version", p.Version(), "stage", stage.String(), "pushed_to", n)
	return &PushResult{Version: p.Version(), Expires: p.Expires(), PushedTo: n, OtherKeys: x.otherKeys(p)}, nil
}

// RolloutStatus is what ops watch during a rollout.
type RolloutStatus struct {
	Version  uint64            `json:"version"`
	Current  uint64            `json:"current"`
	Stage    string            `json:"stage"`
	Started  time.Time         `json:"started"`
	Targets  int               `json:"targets"` // connected appliances in the stage
	Applied  int               `json:"applied"` // of those, how many report they applied it
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
