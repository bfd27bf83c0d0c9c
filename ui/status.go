package ui

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/babgate/bab/console"
)

// level is how bad a state is; the banner's colour follows it.
type level int

const (
	levelUnknown level = iota // not asked yet
	levelOK
	levelWarn
	levelFail
)

// note is one thing the console tells the clerk, in plain words: what is
// the case and what to do. tech is for office IT, as the appliance said it.
type note struct {
	level level
	short string // a few words for the window title
	text  string
	next  string
	tech  string
}

// expiringWithin is how early the console warns that the policy expires.
const expiringWithin = 72 * time.Hour

// describeStatus turns the office's state into notes, the worst first. err
// is the failure to ask for it.
func describeStatus(st *console.Status, err error, clk clock) []note {
	if err != nil {
		return []note{errorNote(err)}
	}
	if st == nil {
		return []note{{level: levelUnknown, short: lang.L("status.checking.short"), text: lang.L("status.checking.text")}}
	}
	since := map[string]any{"Time": clk.when(st.Since)}
	var notes []note
	add := func(l level, key string, data map[string]any, tech string) {
		notes = append(notes, note{
			level: l,
			short: lang.L("status." + key + ".short"),
			text:  lang.L("status."+key+".text", data),
			next:  lang.L("status."+key+".next", data),
			tech:  tech,
		})
	}
	switch {
	case st.Revoked:
		add(levelFail, "revoked", nil, st.LastError)
	case st.Pending:
		add(levelFail, "pending", nil, st.LastError)
	case st.Quarantine != "":
		add(levelFail, "quarantine", nil, st.Quarantine)
	case !st.Connected && st.Since.IsZero():
		add(levelFail, "down", nil, st.LastError)
	case !st.Connected:
		add(levelFail, "down_since", since, st.LastError)
	case !st.Attested:
		add(levelWarn, "attesting", nil, "")
	}
	expires := map[string]any{"Date": clk.full(st.PolicyExpires)}
	switch {
	case st.PolicyProblem != "":
		add(levelFail, "policy_problem", nil, st.PolicyProblem)
	case st.PolicyVersion == 0:
		add(levelFail, "no_policy", nil, "")
	case st.PolicyExpired || (!st.PolicyExpires.IsZero() && !st.PolicyExpires.After(clk.now())):
		add(levelFail, "policy_expired", expires, st.PolicyNote)
	case st.PolicyNote != "" || (!st.PolicyExpires.IsZero() && st.PolicyExpires.Sub(clk.now()) < expiringWithin):
		add(levelWarn, "policy_expiring", expires, st.PolicyNote)
	}
	if len(notes) == 0 {
		add(levelOK, "ok", nil, "")
	}
	slices.SortStableFunc(notes, func(a, b note) int { return cmp.Compare(b.level, a.level) })
	return notes
}

// facts are the home screen's lines: the state of each part in words.
type facts struct {
	exchange, attestation, policy, checked string
}

func describeFacts(st *console.Status, clk clock) facts {
	if st == nil {
		unknown := lang.L("fact.unknown")
		return facts{unknown, unknown, unknown, unknown}
	}
	var f facts
	t := map[string]any{"Time": clk.when(st.Since)}
	switch {
	case st.Connected && !st.Since.IsZero():
		f.exchange = lang.L("fact.exchange.up_since", t)
	case st.Connected:
		f.exchange = lang.L("fact.exchange.up")
	case !st.Since.IsZero():
		f.exchange = lang.L("fact.exchange.down_since", t)
	default:
		f.exchange = lang.L("fact.exchange.down")
	}
	switch {
	case st.Quarantine != "":
		f.attestation = lang.L("fact.attestation.quarantine")
	case st.Attested:
		f.attestation = lang.L("fact.attestation.ok")
	default:
		f.attestation = lang.L("fact.attestation.pending")
	}
	p := map[string]any{"Version": strconv.FormatUint(st.PolicyVersion, 10), "Date": clk.full(st.PolicyExpires)}
	switch {
	case st.PolicyVersion == 0:
		f.policy = lang.L("fact.policy.none")
	case st.PolicyExpires.IsZero():
		f.policy = lang.L("fact.policy.version", p)
	case st.PolicyExpired || !st.PolicyExpires.After(clk.now()):
		f.policy = lang.L("fact.policy.expired", p)
	default:
		f.policy = lang.L("fact.policy.valid", p)
	}
	f.checked = clk.whenExact(st.CheckedAt)
	if st.CheckedAt.IsZero() {
		f.checked = clk.whenExact(clk.now())
	}
	return f
}
