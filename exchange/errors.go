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
)
