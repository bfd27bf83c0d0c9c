package policy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzCleanPath checks CleanPath against a second, plainer reading of its
// contract built on net/url: a path is refused (with ErrBadPath) exactly
// when it does not start with "/", holds a NUL, a backslash or a ';', raw
// or percent-encoded, or an encoded "/" or "%", or has a segment that is
// "." or ".." once percent-decoded, as a provider that decodes the path
// would see it.
// An accepted path comes back unchanged, and checking it again accepts it
// again.
func FuzzCleanPath(f *testing.F) {
	for _, p := range []string{
		"/", "/citizens/42", "/citizens/", "//double", "/a.b/..c/...", "/file%2ejson", "/x/.hidden",
		"", "citizens", "/.", "/..", "/a/./b", "/a/../b", "/a/b/.", "/a\\b", "/a\x00b",
		"/%2e%2e/x", "/.%2E/x", "/a%2fb", "/a%5Cb", "/a%00", "/a%2", "/a%", "/%2e%", "/%252e%252e/",
		"/citizens/42?x=1#frag", "/ünïcode/é", "/a//../b", "/citizens/..;/admin", "/a;b", "/a/..%3B/b", "/a%25",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out, err := CleanPath(p)
		want := cleanByURL(p)
		if err != nil {
			if !errors.Is(err, ErrBadPath) || out != "" {
				t.Fatalf("CleanPath(%q) = %q, %v; want an error matching ErrBadPath and no path", p, out, err)
			}
			if want {
				t.Fatalf("CleanPath(%q) refused a clean path: %v", p, err)
			}
			return
		}
		if !want {
			t.Fatalf("CleanPath(%q) accepted a path with a dot segment or a forbidden byte", p)
		}
		if out != p {
			t.Fatalf("CleanPath(%q) rewrote the path to %q", p, out)
		}
		if again, err := CleanPath(out); err != nil || again != out {
			t.Fatalf("CleanPath(%q) again = %q, %v", out, again, err)
		}
	})
}

// cleanByURL is the contract of CleanPath, read with net/url.
func cleanByURL(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\;") {
		return false
	}
	lower := strings.ToLower(p)
	for _, enc := range []string{"%2f", "%5c", "%00", "%3b", "%25"} {
		if strings.Contains(lower, enc) {
			return false
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		// A segment that does not decode is not a dot segment either.
		if dec, err := url.PathUnescape(seg); err == nil && (dec == "." || dec == "..") {
			return false
		}
	}
	return true
}
