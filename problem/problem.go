// Package problem is the catalog of typed errors that Bab returns to local
// systems as RFC 9457 problem+json. Each cause has a stable code, a stable
// type URI, an HTTP status and a plain sentence that says what to do; the
// exchange and the provider appliance send the same codes over the tunnel so
// that the consumer's gateway can answer with the cause, wherever it arose.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Code is a stable error code. Codes never change meaning once released.
type Code string

// The codes. docs/problems.md lists them for local system developers; a test
// keeps that page and this list in step.
const (
	Unauthenticated      Code = "unauthenticated"
	BadRequest           Code = "bad_request"
	NotAllowed           Code = "not_allowed"
	UnknownService       Code = "unknown_service"
	ProviderOffline      Code = "provider_offline"
	ExchangeUnreachable  Code = "exchange_unreachable"
	Timeout              Code = "timeout"
	BodyTooLarge         Code = "body_too_large"
	PolicyExpired        Code = "policy_expired"
	NoPolicy             Code = "no_policy"
	BackendUnreachable   Code = "backend_unreachable"
	NoBackend            Code = "no_backend"
	Internal             Code = "internal"
	ApplianceQuarantined Code = "appliance_quarantined"
	RateLimited          Code = "rate_limited"
	BadGateway           Code = "bad_gateway"
	HeadersTooLarge      Code = "headers_too_large"
	ApplianceRevoked     Code = "appliance_revoked"
	AppliancePending     Code = "appliance_pending"
	ApplianceKeyMismatch Code = "appliance_key_mismatch"
	AttestationPending   Code = "attestation_pending"
	Overloaded           Code = "overloaded"
	Tampered             Code = "tampered"
	SessionUnknown       Code = "session_unknown"
	TraceUnavailable     Code = "trace_unavailable"
	SubjectRequired      Code = "subject_required"
)

// Info is what the catalog knows about a code.
type Info struct {
	Status int
	Title  string
	Hint   string // what the caller or an operator should do
}

var catalog = map[Code]Info{
	Unauthenticated:      {http.StatusUnauthorized, "The calling system is not known to this appliance", "Send the token configured for your system as \"Authorization: Bearer TOKEN\", or present its client certificate; ask the office IT to add your system to the gateway clients in bab.yaml."},
	BadRequest:           {http.StatusBadRequest, "The request is not a valid Bab call", "Call /{service}/{path}, for example /MA/GOV/ETATCIVIL/civil-status/citizens/42, with a clean path."},
	NotAllowed:           {http.StatusForbidden, "The policy does not allow this call", "Ask central ops for an access rule that lets your administration call this service with this method and path."},
	UnknownService:       {http.StatusNotFound, "No such service in the policy", "Check the service identifier; central ops list the services your administration may call."},
	ProviderOffline:      {http.StatusServiceUnavailable, "The providing administration's appliance is not connected", "Try again later; if it lasts, the provider's IT should check their appliance (bab status)."},
	ExchangeUnreachable:  {http.StatusServiceUnavailable, "This appliance has no connection to the exchange", "Office IT: run bab status and bab doctor; UDP (or at least TCP) to the exchange's port must be allowed out."},
	Timeout:              {http.StatusGatewayTimeout, "The request did not complete within its deadline", "Try again; raise the deadline with the Bab-Timeout header if the service is known to be slow."},
	BodyTooLarge:         {http.StatusRequestEntityTooLarge, "The request body is larger than this gateway accepts", "Send a smaller body, or ask office IT to raise gateway.max_body_bytes."},
	PolicyExpired:        {http.StatusServiceUnavailable, "The policy this appliance holds has expired", "Office IT: check the tunnel (bab status); central ops must publish a new policy."},
	NoPolicy:             {http.StatusServiceUnavailable, "This appliance has not received a policy yet", "Office IT: check that the appliance is enrolled and connected (bab status)."},
	BackendUnreachable:   {http.StatusBadGateway, "The provider's system did not answer", "Try again later; the provider's IT should check the backend named in their bab.yaml."},
	NoBackend:            {http.StatusBadGateway, "The provider's appliance has no backend for this service", "The provider's IT should add the service to the services list in their bab.yaml."},
	BadGateway:           {http.StatusBadGateway, "The provider's answer could not be carried back", "Try again; if it repeats, give the request id to office IT: the provider's answer broke Bab's rules (for example a body longer or shorter than it announced)."},
	AppliancePending:     {http.StatusForbidden, "This appliance waits for central approval", "Office IT: the appliance is enrolled, but central ops have not yet listed it in the signed policy; ask them to approve it (bab-exchange fleet approve). Requests work once the new policy arrives."},
	ApplianceKeyMismatch: {http.StatusForbidden, "The policy lists another key for this appliance", "Office IT: the appliance was re-enrolled or replaced since central ops approved it, and the signed policy still binds its name to the key it had; ask central ops to approve the new key (bab-exchange fleet approve, then sign and push). Requests work once the new policy arrives."},
	Overloaded:           {http.StatusServiceUnavailable, "Your office has too many requests in flight", "Retry after Retry-After. If it happens often, your office sends more requests at once than the exchange gives one appliance; ask central ops about the exchange's limits."},
	TraceUnavailable:     {http.StatusServiceUnavailable, "The exchange cannot trace this request now", "Retry after Retry-After: the exchange carries only requests it can trace, and its trace is behind. If it lasts, central ops should check the exchange's disk (bab_exchange_trace_queue_total counts these refusals)."},
	AttestationPending:   {http.StatusServiceUnavailable, "This appliance's boot state is being verified", "Retry after Retry-After: the exchange checks the boot state of every appliance when it connects, before it carries any request."},
	ApplianceRevoked:     {http.StatusServiceUnavailable, "The exchange has revoked this appliance", "Office IT: the exchange refuses this appliance for good (bab status says why); ask central ops for a replace token and enroll again."},
	HeadersTooLarge:      {http.StatusRequestHeaderFieldsTooLarge, "The request has more or larger headers than Bab carries", "Send fewer or shorter headers: at most 200 header fields and 64 KiB for the request line and headers together."},
	RateLimited:          {http.StatusTooManyRequests, "Your administration called this service more often than the policy allows", "Wait for the time in Retry-After and try again; if the limit is too low for your work, ask central ops to raise it."},
	ApplianceQuarantined: {http.StatusServiceUnavailable, "This appliance is in quarantine", "Office IT: the exchange saw a boot state other than the recorded one (a firmware, bootloader or Secure Boot change?); ask central ops to check it and accept the new state (see firmware-notes/pcrs.md)."},
	Tampered:             {http.StatusBadGateway, "The request or its answer was altered on the way", "Try again. Both appliances logged it with the request id: give it to office IT, who should tell central ops — something between the two administrations changed, replayed or redirected the request, and neither appliance accepted it."},
	SessionUnknown:       {http.StatusServiceUnavailable, "The provider's appliance has forgotten this office's protected session", "Retry at once: your appliance opens a new session by itself (it retries requests without a body on its own). The provider's appliance restarted, or the session expired."},
	SubjectRequired:      {http.StatusBadRequest, "This service needs to know whom the request is about", "Name the person the request is about with the header Bab-Subject: SCHEME:ID (for example Bab-Subject: MA-CIN:AB123456), in a scheme the service accepts; detail lists them."},
	Internal:             {http.StatusInternalServerError, "Bab failed to handle the request", "Try again; if it repeats, send the request id to office IT so they can find it in the logs."},
}

// Lookup returns the catalog entry for c; unknown codes map to Internal's
// entry so that a newer peer's code still gives a sensible answer.
func Lookup(c Code) Info {
	if i, ok := catalog[c]; ok {
		return i
	}
	return catalog[Internal]
}

// Codes lists every code in the catalog.
func Codes() []Code {
	out := make([]Code, 0, len(catalog))
	for c := range catalog {
		out = append(out, c)
	}
	return out
}

// TypeURI is the RFC 9457 "type" of a code.
func (c Code) TypeURI() string { return "urn:bab:problem:" + string(c) }

// Problem is the RFC 9457 body, with Bab's extension members.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      Code   `json:"code"`
	Hint      string `json:"hint"`
	Hop       string `json:"hop,omitempty"` // where it was decided: consumer, exchange, provider
	RequestID string `json:"request_id,omitempty"`
}

// New builds the problem for code c with a detail sentence.
func New(c Code, detail string) *Problem {
	i := Lookup(c)
	return &Problem{Type: c.TypeURI(), Title: i.Title, Status: i.Status, Detail: detail, Code: c, Hint: i.Hint}
}

// Write sends p as application/problem+json. retryAfter, when positive,
// becomes a Retry-After header in whole seconds (rounded up).
func Write(w http.ResponseWriter, p *Problem, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RequestID != "" {
		h.Set("Bab-Request-Id", p.RequestID)
	}
	if retryAfter > 0 {
		// Rounded up without adding first: retryAfter+time.Second-1
		// overflows for the longest durations.
		secs := retryAfter / time.Second
		if retryAfter%time.Second != 0 {
			secs++
		}
		h.Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	b, _ := json.Marshal(p) // a struct of strings and ints always encodes
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}
