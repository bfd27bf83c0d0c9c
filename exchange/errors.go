package exchange

import "errors"

var (
	// ErrTokenSecret means the token's secret does not match: it was
	// altered or mistyped.
	ErrTokenSecret = errors.New("enrollment token does not match (check it was copied whole, or ask ops for a new one)")
	// ErrTokenExpired means the token's validity ended before it was used.
	ErrTokenExpired = errors.New("enrollment token expired (ask ops for a new one: bab-exchange token create --member MEMBER)")
	// ErrTokenName means the token was made for another appliance name.
	ErrTokenName = errors.New("enrollment token bound to another appliance name")

	// ErrRenewOtherKey means a renewal asked for another key than the one
	// the tunnel authenticated with.
	ErrRenewOtherKey = errors.New("renewal must be for the key the tunnel uses")
	// ErrRenewRevoked means the appliance was revoked while its tunnel was
	// up; it gets no new certificate.
	ErrRenewRevoked = errors.New("this appliance was revoked by the exchange")
	// ErrRenewNotRegistered means the tunnel's key is not, or no longer,
	// the appliance's registered key (another appliance was enrolled in its
	// place).
	ErrRenewNotRegistered = errors.New("renewal is only for the registered key of this appliance")
	// ErrRegistryChanged means the registry entry changed between reading
	// and writing it; the caller tries again.
	ErrRegistryChanged = errors.New("the registry entry changed meanwhile")

	// ErrNameEnrolled means a token was asked for a name that is enrolled
	// without saying to replace it.
	ErrNameEnrolled = errors.New("is enrolled already; to enroll a new appliance in its place (its key and certificates are then refused for good), make the token with --replace NAME instead of --name")
	// ErrNothingToReplace means --replace named no enrolled appliance.
	ErrNothingToReplace = errors.New("no appliance is enrolled under that name, so there is nothing to replace; make the token with --name")
	// ErrReplaceNeedsTPM means an appliance enrolled with a TPM would be
	// replaced by one with a software key, which would drop its
	// attestation.
	ErrReplaceNeedsTPM = errors.New("the appliance it replaces was enrolled with a TPM; its replacement must be too")
)
