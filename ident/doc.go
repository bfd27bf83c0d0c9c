// Package ident defines the identifiers of Bab's federation: members
// (administrations), their appliances and the services they provide. Every
// identifier is validated on parse so that a bad one is refused at the edge
// with a message that says what is wrong.
//
// # Grammar
//
// All identifiers are plain ASCII, so that they read the same in URLs, file
// names, logs and certificates, and compare byte for byte.
//
//	member    = country "/" class "/" code            MA/GOV/DGSN, MA/MUN/RABAT
//	service   = member "/" name                       MA/GOV/DGSN/civil-status
//	appliance = member ":" name                       MA/GOV/DGSN:rabat-01
//
//	country = 2 upper                                 ISO 3166-1 alpha-2
//	class   = 2*10 upper                              GOV, MUN, COM, NGO, ...
//	code    = 1*40 (upper / digit / "-"), first and last not "-"
//	name    = 1*63 (lower / digit / "-"), first a letter, last not "-"
//
//	upper = "A"-"Z"   lower = "a"-"z"   digit = "0"-"9"
//
// A member identifier is therefore at most 54 bytes long, a service or an
// appliance identifier at most 118.
//
// A request may name the person its data is about, its subject ([Subject]),
// in an identifier scheme the policy accepts for the service:
//
//	subject = scheme ":" id                          MA-CIN:AB123456
//	scheme  = upper *31(upper / digit / "-"), last not "-"
//	id      = 1*64 (upper / digit / "-" / "."), first and last a letter or digit
//
// A subject is personal data: the errors of [ParseSubject] name the defect
// and the scheme, never the identifier.
//
// A request for a service travels as a URL path whose first four segments
// are the service identifier; [SplitServicePath] separates them from the
// path inside the service:
//
//	/MA/GOV/DGSN/civil-status/citizens/42  ->  MA/GOV/DGSN/civil-status  +  /citizens/42
//
// # Errors
//
// Every parse failure is an [*Error] naming the kind of identifier, the
// (truncated) input and the precise defect; all of them match [ErrInvalid]
// with errors.Is.
package ident
