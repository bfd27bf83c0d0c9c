package ident

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalid is matched by every [*Error], so callers that only need to know
// "bad identifier" (for a 400 rather than a 500) need not inspect the type.
var ErrInvalid = errors.New("invalid identifier")

// Kinds of identifier named in [Error.Kind].
const (
	KindMember      = "member"
	KindService     = "service"
	KindAppliance   = "appliance"
	KindServicePath = "service path"
	KindSubject     = "subject"
	KindScheme      = "identifier scheme"
)

// maxQuoted bounds how much of an input an error repeats, so that a hostile
// multi-megabyte path cannot blow up a log line.
const maxQuoted = 80

// Error describes why an identifier was refused.
type Error struct {
	Kind   string // one of KindMember, KindService, KindAppliance, KindServicePath, KindSubject, KindScheme
	Input  string // the input, truncated to 80 bytes; of a subject, only its scheme
	Reason string // the first defect found, e.g. `country "ma" must be two uppercase letters`

	cut bool // Input was truncated; shown as "..." in the message
}

func newError(kind, input, reason string) *Error {
	t := truncate(input)
	return &Error{Kind: kind, Input: t, Reason: reason, cut: len(t) < len(input)}
}

func (e *Error) Error() string {
	what := e.Kind + " identifier"
	if e.Kind == KindServicePath || e.Kind == KindSubject || e.Kind == KindScheme {
		what = e.Kind
	}
	in := quote(e.Input)
	if e.cut {
		in += "..."
	}
	return fmt.Sprintf("invalid %s %s: %s (expected form %s)", what, in, e.Reason, example(e.Kind))
}

// Is makes errors.Is(err, ErrInvalid) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// example shows the expected form next to the defect because ops reading a
// log line rarely have the grammar at hand.
func example(kind string) string {
	switch kind {
	case KindMember:
		return "MA/GOV/DGSN"
	case KindService:
		return "MA/GOV/DGSN/civil-status"
	case KindAppliance:
		return "MA/GOV/DGSN:rabat-01"
	case KindServicePath:
		return "/MA/GOV/DGSN/civil-status/..."
	case KindSubject:
		// No identifier, not even a made-up one: someone grepping logs for
		// a person's must find theirs only.
		return "SCHEME:ID"
	case KindScheme:
		return "MA-CIN"
	}
	return "?"
}

// truncate cuts s to at most maxQuoted bytes without splitting a UTF-8
// sequence, so the quoted form stays readable.
func truncate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > maxQuoted-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = maxQuoted // not UTF-8 anyway; any cut is as good
	}
	return s[:cut]
}

// quote renders a (possibly hostile) input for a message: %q escapes control
// characters and invalid UTF-8, and long inputs are cut with a visible mark.
func quote(s string) string {
	t := truncate(s)
	if len(t) < len(s) {
		return fmt.Sprintf("%q...", t)
	}
	return fmt.Sprintf("%q", t)
}
