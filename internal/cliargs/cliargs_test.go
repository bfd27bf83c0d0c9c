package cliargs

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		key  string
		rest []string
	}{
		{[]string{"FILE", "--log-key", "K"}, "K", []string{"FILE"}},
		{[]string{"--log-key", "K", "FILE"}, "K", []string{"FILE"}},
		{[]string{"A", "-log-key=K", "B"}, "K", []string{"A", "B"}},
		{[]string{"A", "--", "--log-key", "K"}, "", []string{"A", "--log-key", "K"}},
		{nil, "", nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		key := fs.String("log-key", "", "")
		rest, err := Parse(fs, tc.args)
		if err != nil || *key != tc.key || !slices.Equal(rest, tc.rest) {
			t.Errorf("Parse(%q) = %q, %v, key %q; want %q, key %q", tc.args, rest, err, *key, tc.rest, tc.key)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := Parse(fs, []string{"A", "--nope"}); err == nil {
		t.Error("an unknown flag after an argument was accepted")
	}
}
