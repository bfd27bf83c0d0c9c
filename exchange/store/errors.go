package store

import "errors"

var (
	// ErrLocked means another bab-exchange process holds the state file.
	ErrLocked = errors.New("store: the state file is in use by another bab-exchange process")
	// ErrCorrupt means a record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrTokenUnknown means no token has that id: it was mistyped or never made.
	ErrTokenUnknown = errors.New("enrollment token unknown (check it was copied whole; ops can make a new one with: bab-exchange token create --member MEMBER)")
	// ErrTokenUsed means the token was redeemed already; tokens are single use.
	ErrTokenUsed = errors.New("enrollment token already used (tokens are single use; ask ops for a new one: bab-exchange token create --member MEMBER)")
	// ErrUnknownAppliance means the registry has no such appliance.
	ErrUnknownAppliance = errors.New("store: unknown appliance")
	// ErrApplianceExists means a token would enroll over an appliance that
	// is enrolled, and ops did not make it to replace that appliance.
	ErrApplianceExists = errors.New("an appliance is enrolled under this name already; to enroll a new one in its place, whose key and certificates are then refused for good, ops make a token with: bab-exchange token create --member MEMBER --replace NAME")
	// ErrDenied means a key or certificate is on the deny list: it was
	// revoked or replaced, and never comes back.
	ErrDenied = errors.New("revoked for good")
	// ErrStale means a policy at or above the offered version is current.
	ErrStale = errors.New("store: policy version not newer than the current one")
	// ErrTraceNotFound means no record kept in the trace log has the
	// request id or index asked for.
	ErrTraceNotFound = errors.New("no such record in the trace log")
	// ErrTracePruned means the record asked for was deleted after the
	// retention period; the tree still holds its hash, but no receipt
	// can show it.
	ErrTracePruned = errors.New("the record was pruned from the trace log")
	// ErrTraceAmbiguous means several records have the request id asked
	// for (the consumer's appliance chooses ids); ask for one by index.
	ErrTraceAmbiguous = errors.New("several records of the trace log have this request id")
	// ErrNotCheckpointed means the record is newer than the last signed
	// checkpoint; the next one covers it.
	ErrNotCheckpointed = errors.New("the record is not covered by a signed checkpoint yet")
)
