package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched by every [*ValidationError]: the bundle is well
// formed but breaks a rule of [Bundle.Validate].
var ErrInvalid = errors.New("invalid policy")

// ErrMalformed means bytes could not be decoded as a signed bundle, a bundle
// or a policy source (bad syntax, unknown fields, over the size cap).
var ErrMalformed = errors.New("malformed policy")

// ErrBadSignature means a signature claims a trusted key but does not
// verify: the payload or the signature was altered, which is worth an alarm
// rather than a plain refusal.
var ErrBadSignature = errors.New("bad policy signature")

// ErrUnknownSigner means the bundle is signed only by keys this appliance
// does not trust, typically a bundle from another federation or a stale key.
var ErrUnknownSigner = errors.New("policy signed by unknown key")

// ErrThreshold means fewer distinct trusted keys signed the bundle than the
// trust configuration requires.
var ErrThreshold = errors.New("too few policy signatures")

// ErrExpired means the bundle's expiry time has passed; an appliance must
// stop using a bundle rather than run forever on stale rules.
var ErrExpired = errors.New("policy expired")

// ErrNotNewer means the bundle's version is not above the one already
// applied, which blocks replaying an old (perhaps more permissive) bundle.
var ErrNotNewer = errors.New("policy not newer")

// ErrUnknownService means a request named a service the policy does not
// list, as opposed to a known service the consumer may not call.
var ErrUnknownService = errors.New("unknown service")

// ErrNotAllowed means no rule lets the consumer make this request.
var ErrNotAllowed = errors.New("not allowed")

// ErrSubjectRequired means a request to a service that requires its
// subject named none (Bab-Subject).
var ErrSubjectRequired = errors.New("subject required")

// ErrBadSubject means a request named a subject that is malformed or in a
// scheme the service does not accept.
var ErrBadSubject = errors.New("bad subject")

// ErrBadPath means a path is not in the clean form that policy prefixes
// are matched against (see [CleanPath]).
var ErrBadPath = errors.New("bad path")

// ErrBadKey means a key is not a usable Ed25519 key: wrong size, wrong PEM
// type, or not Ed25519 at all.
var ErrBadKey = errors.New("bad key")

// ValidationError is one problem found by [Bundle.Validate].
type ValidationError struct {
	Field string // JSON path of the offending value, e.g. "rules[2].service"
	Msg   string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true for every *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// SourceError places an error from [ParseSource] in the source file, so that
// ops and editors can jump to it.
type SourceError struct {
	Name string // the name given to ParseSource
	Line int    // 1-based line of the offending YAML node
	Err  error  // a *ValidationError, or an error matching ErrMalformed
}

func (e *SourceError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err) }

func (e *SourceError) Unwrap() error { return e.Err }

// syntaxError is a decoding problem in a source file; it matches ErrMalformed
// without repeating that sentinel's text on every line.
type syntaxError string

func (e syntaxError) Error() string { return string(e) }

func (e syntaxError) Is(target error) bool { return target == ErrMalformed }

// What an expired bundle does (Bundle.OnExpiry).
const (
	OnExpiryServe  = "serve"
	OnExpiryRefuse = "refuse"
)

// Bounds of a policy's attestation interval, in seconds: often enough to
// matter, rarely enough for a fleet of TPMs.
const (
	MinAttestInterval = 10
	MaxAttestInterval = 24 * 60 * 60
)

// ErrDeltaBase means a policy delta is told against another bundle than the
// one the appliance holds: the sender should send the whole bundle.
var ErrDeltaBase = errors.New("policy delta base is not the bundle in force")
