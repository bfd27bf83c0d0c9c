package policy

import (
	"errors"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/citizens/42", true},
		{"/citizens/", true},
		{"//double", true},
		{"/a.b/..c/...", true},
		{"/file%2ejson", true},
		{"/%41", true},
		{"/x/.hidden", true},
		{"", false},
		{"citizens", false},
		{"/.", false},
		{"/..", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a/..", false},
		{"/a/b/.", false},
		{"/a\\b", false},
		{"/a\x00b", false},
		{"/%2e%2e/x", false},
		{"/.%2E/x", false},
		{"/%2E", false},
		{"/a%2fb", false},
		{"/a%2Fb", false},
		{"/a%5cb", false},
		{"/a%00", false},
		// Matrix parameters, which Java servers strip before routing.
		{"/citizens/..;/admin", false},
		{"/citizens;jsessionid=1/42", false},
		{"/citizens/.;/42", false},
		{"/citizens/..%3B/admin", false},
		{"/citizens/..%3b/admin", false},
		// An encoded '%' hides anything under one more decoding.
		{"/citizens/%252e%252e/admin", false},
		{"/citizens/%25", false},
		{"/citizens/a%20b", true},
	}
	for _, tt := range tests {
		got, err := CleanPath(tt.in)
		switch {
		case tt.ok && (err != nil || got != tt.in):
			t.Errorf("CleanPath(%q) = %q, %v; want it unchanged", tt.in, got, err)
		case !tt.ok && !errors.Is(err, ErrBadPath):
			t.Errorf("CleanPath(%q) = %q, %v; want an error matching ErrBadPath", tt.in, got, err)
		}
	}
}

func TestMatchPrefix(t *testing.T) {
	tests := []struct {
		prefix, path string
		want         bool
	}{
		{"/", "/", true},
		{"/", "/anything/at/all", true},
		{"/citizens/", "/citizens/42", true},
		{"/citizens/", "/citizens/", true},
		{"/citizens/", "/citizens", false},
		{"/citizens/", "/citizensX/1", false},
		{"/citizens", "/citizens", true},
		{"/citizens", "/citizens/42", true},
		{"/citizens", "/citizens/", true},
		{"/citizens", "/citizensX", false},
		{"/citizens", "/citizens.json", false},
		{"/citizens", "/citizen", false},
		{"/a/b", "/a/b/c", true},
		{"/a/b", "/a/bc", false},
		{"", "/", false},
	}
	for _, tt := range tests {
		if got := matchPrefix(tt.prefix, tt.path); got != tt.want {
			t.Errorf("matchPrefix(%q, %q) = %v, want %v", tt.prefix, tt.path, got, tt.want)
		}
	}
}

func TestValidMethod(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"GET", true}, {"POST", true}, {"M-SEARCH", true}, {"VERSION-CONTROL", true}, {"*", true},
		{"", false}, {"get", false}, {"Get", false}, {"GET POST", false}, {"G*", false}, {"**", false},
		{"GET\n", false}, {"GÉT", false},
	}
	for _, tt := range tests {
		if got := validMethod(tt.in); got != tt.want {
			t.Errorf("validMethod(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
