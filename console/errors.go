package console

import (
	"errors"
	"fmt"
	"time"

	"github.com/babgate/bab/problem"
)

// ErrBadCode: a pairing code is not 20 characters of its alphabet.
var ErrBadCode = errors.New("not a pairing code")

// ErrWrongAppliance: the appliance reached while pairing presented no CA
// whose fingerprint is the one in the code. Either the address is not
// the appliance that printed the code, or something on the network
// stands between them; the console has not sent the code.
var ErrWrongAppliance = errors.New("the appliance's certificate does not match the pairing code")

// ErrWrongAddress: the appliance reached while pairing has the CA the code
// names, but its certificate does not name the address the console used.
// The address is one the appliance does not know itself by; its
// certificate's names are in the error.
var ErrWrongAddress = errors.New("the appliance's certificate does not name this address")

// ErrNotPaired: the console's directory holds no pairing (absent, which
// is not the same as a pairing that cannot be read).
var ErrNotPaired = errors.New("this console is not paired")

// ErrNoSocket: there is no console socket at the path (the console does
// not run on the appliance's server).
var ErrNoSocket = errors.New("no console socket")

// ErrTooLarge: an answer is longer than the console accepts.
var ErrTooLarge = errors.New("answer too large")

// ProblemError is a problem+json answer of the appliance: one of the
// gateway's typed errors, with its code, detail and hint.
type ProblemError struct {
	Status     int // the HTTP status
	Problem    problem.Problem
	RetryAfter time.Duration // from Retry-After, when sent
}

func (e *ProblemError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Problem.Code, e.Status, e.Problem.Detail)
}

// Code is the problem's code.
func (e *ProblemError) Code() problem.Code { return e.Problem.Code }

// StatusError is an answer that failed without a problem body: something
// other than the console API answered (an older appliance, a proxy), or
// it failed before it could say why.
type StatusError struct {
	Status int
	Text   string // the start of the body, for logs
}

func (e *StatusError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Text)
}
