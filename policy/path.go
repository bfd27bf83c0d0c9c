package policy

import (
	"fmt"
	"strings"
)

// CleanPath checks that p is in the form policy prefixes are matched
// against and returns it unchanged; it never rewrites a path, because the
// path that was checked must be the path that is forwarded.
//
// Refused, with an error matching [ErrBadPath]: a path not starting with
// "/", containing a NUL byte, a backslash or a ';', or having a "." or ".."
// segment. A ';' starts a matrix parameter, which Java servers strip before
// routing ("/citizens/..;/admin" is "/admin" to Tomcat and Spring). So that
// a provider that decodes the path once more cannot be steered past a
// prefix either, percent-encoded forms of those ("%2e%2e", "%2f", "%5c",
// "%00", "%3b", in any case) are refused too, and so is an encoded '%'
// ("%25"), which would hide any of them under one more decoding.
func CleanPath(p string) (string, error) {
	if reason := pathDefect(p); reason != "" {
		return "", fmt.Errorf("%w: %s %s", ErrBadPath, quoteCut(p), reason)
	}
	return p, nil
}

// pathDefect returns "" for a clean path and otherwise why it is not. It
// does not allocate on success: Allow calls it on every request.
func pathDefect(p string) string {
	if p == "" || p[0] != '/' {
		return "does not start with '/'"
	}
	start := 1 // of the current segment
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			switch c := p[i]; {
			case c == 0:
				return "contains a NUL byte"
			case c == '\\':
				return "contains a backslash"
			case c == ';':
				return "contains ';' (matrix parameters are not carried)"
			case c == '%' && i+2 < len(p) && encodedSpecial(p[i+1], p[i+2]):
				return "contains an encoded '/', '\\', ';', '%' or NUL"
			}
			if p[i] != '/' {
				continue
			}
		}
		if isDotSegment(p[start:i]) {
			return "has a \".\" or \"..\" segment"
		}
		start = i + 1
	}
	return ""
}

// encodedSpecial reports whether "%" hi lo encodes '/', a backslash, ';',
// '%' or NUL.
func encodedSpecial(hi, lo byte) bool {
	if 'A' <= lo && lo <= 'Z' {
		lo += 'a' - 'A'
	}
	return hi == '2' && (lo == 'f' || lo == '5') || hi == '5' && lo == 'c' || hi == '0' && lo == '0' || hi == '3' && lo == 'b'
}

// isDotSegment reports whether seg is "." or "..", literally or with any of
// its dots percent-encoded.
func isDotSegment(seg string) bool {
	dots := 0
	for seg != "" && dots <= 2 {
		switch {
		case seg[0] == '.':
			seg = seg[1:]
		case len(seg) >= 3 && seg[0] == '%' && seg[1] == '2' && (seg[2] == 'e' || seg[2] == 'E'):
			seg = seg[3:]
		default:
			return false
		}
		dots++
	}
	return seg == "" && (dots == 1 || dots == 2)
}

// matchPrefix matches segment by segment: a prefix ending in "/" matches
// what lies below it, and one that does not matches itself and what lies
// below it, so "/citizens" never matches "/citizensX".
func matchPrefix(prefix, p string) bool {
	if prefix == "" || !strings.HasPrefix(p, prefix) {
		return false
	}
	return prefix[len(prefix)-1] == '/' || len(p) == len(prefix) || p[len(prefix)] == '/'
}

// validMethod accepts "*" or an RFC 9110 method token without lower-case
// letters (methods are case-sensitive, and every registered one is upper
// case). A '*' inside a token is refused so nobody mistakes it for a glob.
func validMethod(m string) bool {
	if m == "*" {
		return true
	}
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// maxQuoted bounds how much of a request's path an error repeats.
const maxQuoted = 120

func quoteCut(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q...", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}
