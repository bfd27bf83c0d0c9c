package console

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"testing"
)

func TestCodeFingerprint(t *testing.T) {
	spki := []byte("a SubjectPublicKeyInfo")
	sum := sha256.Sum256(spki)
	full := base32.StdEncoding.EncodeToString(sum[:])
	got := CodeFingerprint(spki)
	if len(got) != 12 || !strings.HasPrefix(full, got) {
		t.Fatalf("CodeFingerprint = %q, want the first 12 characters of %q", got, full)
	}
	if CodeFingerprint([]byte("another key")) == got {
		t.Error("two keys give the same fingerprint")
	}
}

func TestNewCode(t *testing.T) {
	spki := []byte("ca key")
	a, b := NewCode(spki), NewCode(spki)
	if a == b {
		t.Errorf("two codes are the same: %s", a)
	}
	if len(a) != 24 || strings.Count(a, "-") != 4 {
		t.Errorf("NewCode = %q, want 5 groups of 4", a)
	}
	secret, fp, err := SplitCode(a)
	if err != nil {
		t.Fatalf("SplitCode(%q): %v", a, err)
	}
	if fp != CodeFingerprint(spki) || len(secret) != 8 || !strings.HasPrefix(a, secret[:4]+"-"+secret[4:]) {
		t.Errorf("SplitCode(%q) = %q, %q", a, secret, fp)
	}
}

func TestSplitCode(t *testing.T) {
	tests := []struct {
		in, secret, fp string
		ok             bool
	}{
		{"K7Q2-MXF4-7H3M-PQ2R-AB3C", "K7Q2MXF4", "7H3MPQ2RAB3C", true},
		{"k7q2 mxf4 7h3m pq2r ab3c", "K7Q2MXF4", "7H3MPQ2RAB3C", true},
		{"K7Q2MXF47H3MPQ2RAB3C", "K7Q2MXF4", "7H3MPQ2RAB3C", true},
		{" K7Q2-MXF4-7H3M-PQ2R-AB3C\n", "K7Q2MXF4", "7H3MPQ2RAB3C", true},
		// look-alike digits stand for the letters the alphabet has
		{"K7Q2-MXF4-7H3M-PQ2R-A83C", "K7Q2MXF4", "7H3MPQ2RAB3C", true},
		{"0000-1111-AAAA-AAAA-AAAA", "OOOOIIII", "AAAAAAAAAAAA", true},
		{"K7Q2-MXF4-7H3M-PQ2R", "", "", false},        // too short
		{"K7Q2-MXF4-7H3M-PQ2R-AB3C-A", "", "", false}, // too long
		{"K7Q2-9XF4-7H3M-PQ2R-AB3C", "", "", false},   // 9 is not in the alphabet
		{"K7Q2-MXF4-7H3M-PQ2R-AB3É", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		secret, fp, err := SplitCode(tc.in)
		if tc.ok && (err != nil || secret != tc.secret || fp != tc.fp) {
			t.Errorf("SplitCode(%q) = %q, %q, %v; want %q, %q", tc.in, secret, fp, err, tc.secret, tc.fp)
		}
		if !tc.ok && !errors.Is(err, ErrBadCode) {
			t.Errorf("SplitCode(%q) = %q, %q, %v; want ErrBadCode", tc.in, secret, fp, err)
		}
	}
}

func FuzzSplitCode(f *testing.F) {
	f.Add("K7Q2-MXF4-7H3M-PQ2R-AB3C")
	f.Add("k7q2 mxf4")
	f.Fuzz(func(t *testing.T, s string) {
		secret, fp, err := SplitCode(s)
		if err != nil {
			return
		}
		again, fp2, err := SplitCode(groupCode(secret + fp))
		if err != nil || again != secret || fp2 != fp {
			t.Errorf("SplitCode(%q) = %q, %q; its regrouped form gives %q, %q, %v", s, secret, fp, again, fp2, err)
		}
	})
}
