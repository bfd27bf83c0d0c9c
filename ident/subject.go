package ident

import (
	"fmt"
	"strings"
)

// Subject names the person (or body) whose data a request is about, in
// one of the identifier schemes the federation agreed on: SCHEME:ID, such
// as MA-CIN:AB123456 (a Moroccan national identity card number). Requests
// declare it with the header Bab-Subject, so that the exchange can keep a
// keyed hash of it and answer "who consulted my data".
//
// A subject has exactly one spelling: upper-case letters and digits, no
// folding. A lower-case identifier is refused rather than upper-cased,
// since a scheme whose numbers are case-sensitive would otherwise get two
// people in one, and the hash of one spelling never finds the other.
type Subject struct {
	Scheme string // e.g. "MA-CIN"
	ID     string // e.g. "AB123456"
}

// Limits of the subject grammar.
const (
	maxScheme    = 32
	maxSubjectID = 64
)

// ParseSubject parses a subject such as "MA-CIN:AB123456". Its error
// never repeats the identifier, which is personal data: only the scheme
// and the defect, so that it can be logged and sent back.
func ParseSubject(s string) (Subject, error) {
	scheme, id, ok := strings.Cut(s, ":")
	var reason string
	switch {
	case s == "":
		reason = "subject is empty"
	case !ok:
		reason = "has no ':' between the scheme and the identifier"
	case len(s) > maxScheme+1+maxSubjectID:
		reason = fmt.Sprintf("subject is %d bytes long; the limit is %d", len(s), maxScheme+1+maxSubjectID)
	default:
		// The scheme is not quoted either: a subject written the wrong
		// way round would put the identifier there.
		if checkScheme(scheme) != "" {
			reason = "scheme must be 1 to 32 capitals, digits and '-', starting with a letter and ending with a letter or digit (MA-CIN)"
		} else {
			reason = checkSubjectID(id)
		}
	}
	if reason != "" {
		return Subject{}, &Error{Kind: KindSubject, Input: redactSubject(s), Reason: reason}
	}
	return Subject{Scheme: scheme, ID: id}, nil
}

// CheckScheme reports whether s can name an identifier scheme, as a
// policy lists them: 1 to 32 upper-case letters, digits and '-', starting
// with a letter and ending with a letter or digit (MA-CIN, FR-NIR).
func CheckScheme(s string) error {
	if r := checkScheme(s); r != "" {
		return &Error{Kind: KindScheme, Input: truncate(s), Reason: r, cut: len(truncate(s)) < len(s)}
	}
	return nil
}

// String returns SCHEME:ID, or "" for the zero Subject.
func (s Subject) String() string {
	if s.IsZero() {
		return ""
	}
	return s.Scheme + ":" + s.ID
}

// IsZero reports whether s names no subject.
func (s Subject) IsZero() bool { return s == Subject{} }

func checkScheme(s string) string {
	switch {
	case s == "":
		return "scheme is empty"
	case len(s) > maxScheme:
		return fmt.Sprintf("scheme %s is %d bytes long; the limit is %d", quote(s), len(s), maxScheme)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUpper(c) && !isDigit(c) && c != '-' {
			return fmt.Sprintf("scheme %s contains %s; only A-Z, 0-9 and '-' are allowed", quote(s), charAt(s, i))
		}
	}
	if !isUpper(s[0]) || s[len(s)-1] == '-' {
		return fmt.Sprintf("scheme %s must start with a letter and end with a letter or digit", quote(s))
	}
	return ""
}

// checkSubjectID checks the identifier part. Its reasons say where the
// defect is, never what the identifier is.
func checkSubjectID(s string) string {
	switch {
	case s == "":
		return "identifier is empty"
	case len(s) > maxSubjectID:
		return fmt.Sprintf("identifier is %d bytes long; the limit is %d", len(s), maxSubjectID)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUpper(c) || isDigit(c) || c == '-' || c == '.':
		case isLower(c):
			return fmt.Sprintf("identifier has a lower-case letter at position %d; write it in capitals, as it is issued", i+1)
		default:
			return fmt.Sprintf("identifier has a character other than A-Z, 0-9, '-' and '.' at position %d", i+1)
		}
	}
	if !isUpper(s[0]) && !isDigit(s[0]) || !isUpper(s[len(s)-1]) && !isDigit(s[len(s)-1]) {
		return "identifier must start and end with a letter or digit"
	}
	return ""
}

// redactSubject is what an error shows of a refused subject: its scheme
// part, and a mark where the identifier was.
func redactSubject(s string) string {
	scheme, _, ok := strings.Cut(s, ":")
	if ok && checkScheme(scheme) == "" {
		return scheme + ":…"
	}
	return "…"
}
