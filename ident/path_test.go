package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitServicePath(t *testing.T) {
	cs := MustService("MA/GOV/DGSN/civil-status")
	tests := []struct {
		in       string
		wantSvc  Service
		wantRest string
	}{
		{"/MA/GOV/DGSN/civil-status/citizens/42", cs, "/citizens/42"},
		{"/MA/GOV/DGSN/civil-status", cs, "/"},
		{"/MA/GOV/DGSN/civil-status/", cs, "/"},
		{"/MA/GOV/DGSN/civil-status//x", cs, "//x"},
		{"/MA/GOV/DGSN/civil-status/../x", cs, "/../x"}, // cleaning is the policy's job
	}
	for _, tt := range tests {
		svc, rest, err := SplitServicePath(tt.in)
		if err != nil {
			t.Errorf("SplitServicePath(%q): got error %v", tt.in, err)
			continue
		}
		if svc != tt.wantSvc || rest != tt.wantRest {
			t.Errorf("SplitServicePath(%q) = %v, %q; want %v, %q", tt.in, svc, rest, tt.wantSvc, tt.wantRest)
		}
	}
}

func TestSplitServicePathInvalid(t *testing.T) {
	tests := []struct {
		in     string
		reason string
	}{
		{"", "path is empty"},
		{"MA/GOV/DGSN/civil-status", "path must start with '/'"},
		{"/", "has 1 segments, want at least 4"},
		{"/MA/GOV/DGSN", "has 3 segments, want at least 4"},
		{"/MA/GOV/DGSN/", "name is empty"},
		{"/MA/gov/DGSN/x/y", `class "gov" must be 2 to 10 uppercase letters`},
		{"/MA/GOV/DGSN/Civil/y", `name "Civil" contains 'C'`},
		{"//GOV/DGSN/x", "country is empty"},
		{"/MA/GOV/" + strings.Repeat("A", 200) + "/x/y", "identifier is 209 bytes long; the limit is 118"},
	}
	for _, tt := range tests {
		svc, rest, err := SplitServicePath(tt.in)
		if err == nil {
			t.Errorf("SplitServicePath(%q) = %v, %q; want error with reason %q", tt.in, svc, rest, tt.reason)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("SplitServicePath(%q): error %T, want *Error", tt.in, err)
		}
		if e.Kind != KindServicePath {
			t.Errorf("SplitServicePath(%q): Kind = %q, want %q", tt.in, e.Kind, KindServicePath)
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("SplitServicePath(%q): reason %q, want it to contain %q", tt.in, e.Reason, tt.reason)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("SplitServicePath(%q): error does not match ErrInvalid", tt.in)
		}
	}
}

// The hot path of every request must not allocate for a valid path.
func TestSplitServicePathAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := SplitServicePath("/MA/GOV/DGSN/civil-status/citizens/42"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("SplitServicePath allocates %v times per call, want 0", allocs)
	}
}
