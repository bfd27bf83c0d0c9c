package ident

import (
	"fmt"
	"unicode/utf8"
)

// Limits of the grammar (see the package documentation).
const (
	maxClass     = 10
	maxCode      = 40
	maxName      = 63
	maxMemberLen = 2 + 1 + maxClass + 1 + maxCode
	maxLongLen   = maxMemberLen + 1 + maxName // services and appliances
)

// The check functions below return "" for a valid part and otherwise the
// reason, phrased to stand on its own in an [Error]. They return a string
// rather than an error so that the hot path (a valid identifier) does not
// allocate and each caller can attach its own Kind and Input.

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func checkCountry(s string) string {
	if len(s) == 2 && isUpper(s[0]) && isUpper(s[1]) {
		return ""
	}
	if s == "" {
		return "country is empty"
	}
	return fmt.Sprintf("country %s must be two uppercase letters (ISO 3166-1 alpha-2)", quote(s))
}

func checkClass(s string) string {
	if s == "" {
		return "class is empty"
	}
	ok := len(s) >= 2 && len(s) <= maxClass
	for i := 0; ok && i < len(s); i++ {
		ok = isUpper(s[i])
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("class %s must be 2 to %d uppercase letters", quote(s), maxClass)
}

func checkCode(s string) string {
	switch {
	case s == "":
		return "code is empty"
	case len(s) > maxCode:
		return fmt.Sprintf("code %s is %d bytes long; the limit is %d", quote(s), len(s), maxCode)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUpper(c) && !isDigit(c) && c != '-' {
			return fmt.Sprintf("code %s contains %s; only A-Z, 0-9 and '-' are allowed", quote(s), charAt(s, i))
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Sprintf("code %s must start and end with a letter or digit", quote(s))
	}
	return ""
}

// checkName checks a service or appliance name; what is "name" or a more
// specific word for the message.
func checkName(what, s string) string {
	switch {
	case s == "":
		return what + " is empty"
	case len(s) > maxName:
		return fmt.Sprintf("%s %s is %d bytes long; the limit is %d", what, quote(s), len(s), maxName)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return fmt.Sprintf("%s %s contains %s; only a-z, 0-9 and '-' are allowed", what, quote(s), charAt(s, i))
		}
	}
	if !isLower(s[0]) {
		return fmt.Sprintf("%s %s must start with a letter", what, quote(s))
	}
	if s[len(s)-1] == '-' {
		return fmt.Sprintf("%s %s must not end with '-'", what, quote(s))
	}
	return ""
}

// checkMemberParts checks the three parts of a member identifier in the
// order they are written, so the reason points at the leftmost defect.
func checkMemberParts(country, class, code string) string {
	if r := checkCountry(country); r != "" {
		return r
	}
	if r := checkClass(class); r != "" {
		return r
	}
	return checkCode(code)
}

func checkLength(s string, limit int) string {
	if s == "" {
		return "identifier is empty"
	}
	if len(s) > limit {
		return fmt.Sprintf("identifier is %d bytes long; the limit is %d", len(s), limit)
	}
	return ""
}

// charAt names the offending character at s[i]; a non-ASCII or control
// character is spelled so that it is visible in a log line.
func charAt(s string, i int) string {
	if s[i] < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(s[i]))
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("the invalid UTF-8 byte 0x%02x", s[i])
	}
	return fmt.Sprintf("%q", r)
}
