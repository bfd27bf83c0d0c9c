package yamlconf

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that every error it returns
// is made of *Error values for the file, and that a success has a root.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"version: 1\ngateway:\n  listen: x\n  timeout: 1d\n  max: 4GiB\n  clients:\n    - name: a\n",
		"version: 1\ngateway:\n\tlisten: x\n",
		"gateway: &g {listen: x}\nflag: *g\n",
		"a: b\n---\nc: d\n",
		"labels: {a: 1, a: 2}\n",
		"? [a]\n: 1\n",
		"gateway:\n  <<: {n: 1}\n",
		"",
		"\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v tFile
		root, err := Decode("f.yaml", data, &v)
		if err == nil {
			if root == nil {
				t.Fatal("nil root without an error")
			}
			return
		}
		for _, e := range leaves(err) {
			var ce *Error
			if !errors.As(e, &ce) || ce.File != "f.yaml" || ce.Msg == "" || ce.Line < 0 {
				t.Fatalf("error %q (%T) is not a placed *Error", e, e)
			}
		}
	})
}

// leaves flattens joined errors.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// FuzzDuration checks that a parsed duration is never negative and that
// its String form parses back to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"30s", "1d12h", "0", "1.5h", "-1s", "99999d", "1d0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid duration") {
				t.Fatalf("ParseDuration(%q) error %q", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		back, err := ParseDuration(Duration(d).String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; String %q parses back to %v, %v", s, d, Duration(d), back, err)
		}
	})
}

// FuzzSize checks that a parsed size is never negative.
func FuzzSize(f *testing.F) {
	for _, s := range []string{"1048576", "64KiB", "4 GiB", "1GB", "-1", "9000000TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "invalid size") {
			t.Fatalf("ParseSize(%q) error %q", s, err)
		}
	})
}
