package ui

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// errorNote words any failure to talk with the appliance: its typed
// problems by code, and what happened on the way when it did not answer.
func errorNote(err error) note {
	var pe *console.ProblemError
	if errors.As(err, &pe) {
		return problemNote(pe)
	}
	return simpleNote(levelFail, errorKey(err), err.Error())
}

// problemCode is a failure as the console's log says it: a problem's code
// and request id, which office IT can look up, or the error itself.
func problemCode(err error) string {
	var pe *console.ProblemError
	if errors.As(err, &pe) {
		return string(pe.Problem.Code) + " (request " + pe.Problem.RequestID + ")"
	}
	return err.Error()
}

// errorKey names the words for a failure that is not a problem.
func errorKey(err error) string {
	var se *console.StatusError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	var alert tls.AlertError
	switch {
	case errors.As(err, &se):
		return "error.answer"
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr), errors.Is(err, console.ErrWrongAppliance):
		return "error.identity"
	case errors.As(err, &alert) && refusedCertificate(alert):
		return "error.not_paired"
	case errors.Is(err, console.ErrTooLarge):
		return "error.too_large"
	}
	return "error.unreachable"
}

// refusedCertificate reports whether the appliance ended the handshake
// because it does not accept this console's certificate (revoked, expired,
// or from another pairing).
func refusedCertificate(a tls.AlertError) bool {
	switch a {
	case 42, 44, 45, 46, 48, 49, 116: // bad, revoked, expired, unknown certificate; unknown CA; access denied; certificate required
		return true
	}
	return false
}

func simpleNote(l level, key, tech string) note {
	return note{level: l, short: lang.L(key + ".short"), text: lang.L(key + ".text"), next: lang.L(key + ".next"), tech: tech}
}

// knownCodes are the problem codes the console has words for.
var knownCodes = func() map[problem.Code]bool {
	m := map[problem.Code]bool{}
	for _, c := range problem.Codes() {
		m[c] = true
	}
	return m
}()

// problemNote words one of the gateway's typed problems. A code from a
// newer appliance that this console does not know gets general words.
func problemNote(pe *console.ProblemError) note {
	key := "problem." + string(pe.Code())
	if !knownCodes[pe.Code()] {
		key = "problem.unknown"
	}
	wait := lang.L("problem.wait.moment")
	if pe.RetryAfter > 0 {
		wait = lang.L("problem.wait.for", map[string]any{"Wait": waitText(pe.RetryAfter)})
	}
	data := map[string]any{"Wait": wait}
	tech := string(pe.Code()) + ": " + pe.Problem.Detail
	if pe.Problem.Hop != "" {
		tech += " (" + pe.Problem.Hop + ")"
	}
	l := levelFail
	switch pe.Code() {
	case problem.RateLimited, problem.Overloaded, problem.AttestationPending, problem.TraceUnavailable, problem.Timeout, problem.ProviderOffline:
		l = levelWarn // passes by itself
	}
	return note{
		level: l,
		short: lang.L(key + ".title"),
		text:  lang.L(key+".what", data),
		next:  lang.L(key+".next", data),
		tech:  tech,
	}
}

// waitText is a wait rounded up to the minute past a minute.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return lang.L("unit.seconds", map[string]any{"N": int((d + time.Second - 1) / time.Second)})
	}
	return lang.L("unit.minutes", map[string]any{"N": int((d + time.Minute - 1) / time.Minute)})
}
