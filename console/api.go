// Package console is the contract between bab-console, the clerks' desktop
// console, and its own office's appliance: the paths of the console API
// and the JSON the two exchange. The appliance serves it on its console
// socket (local users in group bab-console) and on its console HTTPS
// address (desktops on the office network, with a client certificate the
// appliance issued when the console was paired). The console talks to
// nothing else: never to the exchange, never to another office.
//
// Errors are RFC 9457 problems (package problem) with their stable codes,
// which the console words for clerks.
//
// The types carry no citizen data except a lookup's result, which the
// console keeps in memory only, and never writes to disk.
package console

import (
	"encoding/json"
	"time"
)

// The paths of the console API.
const (
	PathWhoAmI   = "/v1/console/whoami"   // GET: WhoAmI
	PathStatus   = "/v1/console/status"   // GET: Status
	PathCatalog  = "/v1/console/catalog"  // GET: []Service the caller's role may look up
	PathLookup   = "/v1/console/lookup"   // POST LookupRequest: LookupResult
	PathActivity = "/v1/console/activity" // GET ?direction=&outcome=&service=: []Activity
	PathOffice   = "/v1/console/office"   // GET: Office (office-it only)
	PathRevoke   = "/v1/console/revoke"   // POST RevokeRequest (office-it only)
	PathPair     = "/v1/console/pair"     // POST PairRequest: PairResponse (no client certificate yet)
)

// SocketHost is the Host of every request on the console socket
// (http://bab/v1/console/...); the socket refuses any other, as the
// appliance's control socket does.
const SocketHost = "bab"

// HeaderUser carries, on the HTTPS address, the desktop account the
// console runs under; the paired console's certificate vouches for it. On
// the socket the appliance asks the kernel instead.
const HeaderUser = "Bab-Console-User"

// Role is what a clerk may do in the console; the signed policy's console
// roles name the services each role may look up.
type Role string

// The roles.
const (
	RoleClerk    Role = "clerk"     // looks up records, sees activity
	RoleOfficeIT Role = "office-it" // and sees the office's appliance, pairs and revokes consoles
)

// WhoAmI says who the appliance takes the caller for.
type WhoAmI struct {
	User       string `json:"user"`    // the desktop account
	Console    string `json:"console"` // the paired console's name; "local" on the socket
	Role       Role   `json:"role"`
	Appliance  string `json:"appliance"`
	Member     string `json:"member"`
	MemberName string `json:"member_name,omitempty"`
	// System is the consumer system the caller's lookups carry into the
	// request logs and the exchange's trace: console/CONSOLE/USER.
	System string `json:"system"`
}

// Status is the office's connection at a glance. The console turns it
// into plain words; the appliance reports facts.
type Status struct {
	Connected bool      `json:"connected"`      // a tunnel to the exchange is up
	Since     time.Time `json:"since,omitzero"` // up since, or down since
	LastError string    `json:"last_error,omitempty"`
	Revoked   bool      `json:"revoked,omitempty"` // the exchange refuses this appliance for good
	// Attested: the exchange verified the boot state on the current
	// connection; Quarantine is its reason while it holds the appliance.
	Attested   bool   `json:"attested"`
	Quarantine string `json:"quarantine,omitempty"`
	// The policy in force.
	PolicyVersion uint64    `json:"policy_version"`
	PolicyExpires time.Time `json:"policy_expires,omitzero"`
	PolicyExpired bool      `json:"policy_expired,omitempty"`
	PolicyNote    string    `json:"policy_note,omitempty"`    // the warning before expiry
	PolicyProblem string    `json:"policy_problem,omitempty"` // the cached policy was refused
	Pending       bool      `json:"pending,omitempty"`        // waits for central approval
	CheckedAt     time.Time `json:"checked_at"`
}

// Service is one service a role may look up.
type Service struct {
	ID           string `json:"id"`
	Provider     string `json:"provider"` // the providing member's identifier
	ProviderName string `json:"provider_name,omitempty"`
	Description  string `json:"description,omitempty"`
	// Purposes are those the rules grant access for: the clerk must pick
	// one when the list is not empty (it becomes Bab-Purpose).
	Purposes []string `json:"purposes,omitempty"`
	// Operations are the lookups the form offers: from the service's
	// OpenAPI document where the policy carries one, else a plain GET of a
	// path the clerk types.
	Operations []Operation `json:"operations"`
}

// Operation is one lookup: a GET of a path template with parameters.
type Operation struct {
	Path    string  `json:"path"` // a template: /citizens/{id}
	Summary string  `json:"summary,omitempty"`
	Params  []Param `json:"params,omitempty"`
}

// Param is one input of an operation: a path or query parameter.
type Param struct {
	Name        string   `json:"name"`
	In          string   `json:"in"` // "path" or "query"
	Required    bool     `json:"required,omitempty"`
	Description string   `json:"description,omitempty"`
	Pattern     string   `json:"pattern,omitempty"` // a regular expression the value must match
	Enum        []string `json:"enum,omitempty"`    // the only values allowed: a drop-down
	// Subject is the identifier scheme of the person the lookup is
	// about, when this parameter is that person's identifier
	// (x-bab-subject in the OpenAPI document): the appliance then sends
	// SCHEME:value as the request's subject.
	Subject string `json:"subject,omitempty"`
}

// LookupRequest asks for one record of another administration.
type LookupRequest struct {
	Service string            `json:"service"`
	Path    string            `json:"path"` // the operation's template
	Params  map[string]string `json:"params,omitempty"`
	Purpose string            `json:"purpose,omitempty"`
	// Subject is the person the lookup is about, SCHEME:ID (Bab-Subject),
	// for a service that takes one; without it the appliance takes it
	// from the parameter the form marks as the subject, if any.
	Subject string `json:"subject,omitempty"`
}

// LookupResult is the provider's answer, for the console to show as
// fields. Body is the JSON the provider answered (Text for another type).
type LookupResult struct {
	RequestID   string          `json:"request_id"`
	Service     string          `json:"service"`
	Provider    string          `json:"provider"`
	At          time.Time       `json:"at"`
	Duration    time.Duration   `json:"duration_ns"`
	Status      int             `json:"status"`
	ContentType string          `json:"content_type,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	Text        string          `json:"text,omitempty"`
}

// Activity is one recent exchange of the office, in either direction. It
// holds no payload and no path.
type Activity struct {
	At        time.Time     `json:"at"`
	Direction string        `json:"direction"` // "out": asked by this office; "in": asked of it
	Who       string        `json:"who"`       // the clerk or local system; for "in", the calling appliance
	Service   string        `json:"service"`
	Outcome   string        `json:"outcome"` // "ok" or a problem code
	Duration  time.Duration `json:"duration_ns"`
	RequestID string        `json:"request_id"`
}

// Office is the office IT view of the appliance.
type Office struct {
	Appliance  string    `json:"appliance"`
	Tunnels    []Tunnel  `json:"tunnels"`
	Attested   bool      `json:"attested"`
	AttestedAt time.Time `json:"attested_at,omitzero"`
	Quarantine string    `json:"quarantine,omitempty"`
	CertExpiry time.Time `json:"cert_expiry,omitzero"`
	Findings   []Finding `json:"findings"`
	Consoles   []Paired  `json:"consoles"`
}

// Tunnel is one connection to the exchange.
type Tunnel struct {
	Addr        string    `json:"addr"`
	Connected   bool      `json:"connected"`
	Since       time.Time `json:"since,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Transport is "quic" or "tcp"; TransportReason says why TCP.
	Transport       string `json:"transport,omitempty"`
	TransportReason string `json:"transport_reason,omitempty"`
}

// Finding is one check of the appliance, with its fix when it is not ok.
// Code (one of FindingCodes) and Args let the console word it in the
// clerk's language; Result and Fix are the appliance's English words, for
// a code the console does not know.
type Finding struct {
	Check   string            `json:"check"`
	Code    string            `json:"code,omitempty"`
	Args    map[string]string `json:"args,omitempty"` // Since and Until are RFC 3339 times
	Result  string            `json:"result"`
	Fix     string            `json:"fix,omitempty"`
	Verdict string            `json:"verdict"` // "ok", "warn" or "fail"
}

// FindingCodes are the findings an appliance reports.
var FindingCodes = []string{
	"doctor.server",
	"tunnel.revoked", "tunnel.down", "tunnel.ok",
	"attestation.quarantined", "attestation.pending", "attestation.ok",
	"policy.refused", "policy.pending", "policy.none", "policy.expired", "policy.expiring", "policy.ok",
	"certificate.expiring", "certificate.ok",
}

// Paired is a console paired with the appliance.
type Paired struct {
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	PairedAt time.Time `json:"paired_at"`
	Serial   string    `json:"serial"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// RevokeRequest revokes a paired console; it is refused at once.
type RevokeRequest struct {
	Name string `json:"name"`
}

// PairRequest is a console's first call: the one-time code office IT read
// from bab console pair, the name it asks for and a certificate request
// for a key it made and keeps.
type PairRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
	CSR  []byte `json:"csr"` // DER
}

// PairResponse is the console's certificate, issued by the appliance's
// console CA, which is also the CA of the appliance's HTTPS certificate.
type PairResponse struct {
	Chain     [][]byte `json:"chain"` // DER, leaf first
	CA        []byte   `json:"ca"`    // DER: the only CA the console trusts for this appliance
	Role      Role     `json:"role"`
	Appliance string   `json:"appliance"`
}
