package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/babgate/bab/internal/manpage"
	"github.com/babgate/bab/ui"
)

// TestCommandLine: help, version, -h and mistakes are answered without
// opening a window (the test has no display), with the exit statuses a
// script expects; the help is in the house format the man page is made
// from.
func TestCommandLine(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string // what standard output and error start with
		errHolds string
	}{
		{args: []string{"help"}, out: "bab-console — "},
		{args: []string{"--lang", "fr", "help"}, out: "bab-console — "},
		{args: []string{"version"}, out: "bab-console " + ui.Version + "\n"},
		{args: []string{"-h"}, err: "Usage of bab-console:\n", errHolds: "-config-dir"},
		{args: []string{"open"}, code: 2, err: "bab-console: unexpected \"open\"", errHolds: "bab-console help"},
		{args: []string{"help", "me"}, code: 2, err: "bab-console: unexpected \"help me\""},
		{args: []string{"version", "--json"}, code: 2, err: "bab-console: unexpected"},
		{args: []string{"--no-such-flag"}, code: 2, err: "flag provided but not defined"},
	} {
		var stdout, stderr bytes.Buffer
		code := cli(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.HasPrefix(stdout.String(), tc.out) || !strings.HasPrefix(stderr.String(), tc.err) || !strings.Contains(stderr.String(), tc.errHolds) ||
			tc.out == "" && stdout.Len() > 0 || tc.err == "" && stderr.Len() > 0 {
			t.Errorf("bab-console %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q…, stderr %q… holding %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.out, tc.err, tc.errHolds)
		}
	}

	p, err := manpage.ParseUsage("bab-console", usage)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Commands) != 3 || len(p.Commands[0].Words) != 0 || p.Commands[0].Summary == "" || p.Commands[1].Words[0] != "help" || len(p.Description) == 0 {
		t.Errorf("the usage reads as %+v", p)
	}
	flags, ok := manpage.ParseFlags(func() string {
		var stderr bytes.Buffer
		cli([]string{"-h"}, new(bytes.Buffer), &stderr)
		return stderr.String()
	}())
	if !ok || len(flags) != 4 {
		t.Errorf("-h reads as %v flags %+v, want the four", ok, flags)
	}
}
