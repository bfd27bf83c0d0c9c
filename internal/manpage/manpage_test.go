package manpage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/loudskip"
)

// usage is in the house format, with what makes it hard: arguments aligned
// by narrower gaps, a note on the next line, a command whose note is two
// spaces away, alternatives that are arguments, no note at all.
const usage = `tool — does things for the test

Usage:
  tool serve   [--config FILE]                 run it
  tool tpm     [--config FILE]                 the TPM in use
  tool client token NAME                       a token, and its lines
  tool policy push [--stage S] BUNDLE
                                               verify, store and send
  tool fleet show APPLIANCE [-o table|json|x]  one appliance
  tool policy rollout status | promote | abort BUNDLE
  tool version

The config file defaults to /etc/tool.yaml.
Second line of that note.

Another paragraph.
`

func TestParseUsage(t *testing.T) {
	p, err := ParseUsage("tool", usage)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "does things for the test" {
		t.Errorf("summary %q", p.Summary)
	}
	want := []Command{
		{Words: []string{"serve"}, Synopsis: "tool serve [--config FILE]", Summary: "run it"},
		{Words: []string{"tpm"}, Synopsis: "tool tpm [--config FILE]", Summary: "the TPM in use"},
		{Words: []string{"client", "token"}, Synopsis: "tool client token NAME", Summary: "a token, and its lines"},
		{Words: []string{"policy", "push"}, Synopsis: "tool policy push [--stage S] BUNDLE", Summary: "verify, store and send"},
		{Words: []string{"fleet", "show"}, Synopsis: "tool fleet show APPLIANCE [-o table|json|x]", Summary: "one appliance"},
		{Words: []string{"policy", "rollout"}, Synopsis: "tool policy rollout status | promote | abort BUNDLE"},
		{Words: []string{"version"}, Synopsis: "tool version"},
	}
	if len(p.Commands) != len(want) {
		t.Fatalf("got %d commands, want %d: %+v", len(p.Commands), len(want), p.Commands)
	}
	for i := range want {
		if !reflect.DeepEqual(p.Commands[i], want[i]) {
			t.Errorf("command %d:\n got %+v\nwant %+v", i, p.Commands[i], want[i])
		}
	}
	wantDesc := []string{"The config file defaults to /etc/tool.yaml. Second line of that note.", "Another paragraph."}
	if !reflect.DeepEqual(p.Description, wantDesc) {
		t.Errorf("description %q, want %q", p.Description, wantDesc)
	}
}

func TestParseUsageRefusesOtherFormats(t *testing.T) {
	for name, text := range map[string]string{
		"no title":       "Usage:\n  tool serve\n",
		"no commands":    "tool — x\n\nUsage:\n\nnothing\n",
		"stray in usage": "tool — x\n\nUsage:\n  tool serve\n  other thing\n",
	} {
		if _, err := ParseUsage("tool", text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseFlags(t *testing.T) {
	out := "Usage of tool enroll:\n  -config string\n    \tconfig file (default \"/etc/tool.yaml\")\n  -n\tdry run\n  -o string\n    \toutput\n  -reenroll\n    \treplace an existing\n    \tidentity\n"
	opts, ok := ParseFlags(out)
	want := []Item{
		{"--config string", `config file (default "/etc/tool.yaml")`},
		{"-n", "dry run"},
		{"-o string", "output"},
		{"--reenroll", "replace an existing identity"},
	}
	if !ok || !reflect.DeepEqual(opts, want) {
		t.Errorf("got %q %v, want %q", opts, ok, want)
	}
	if opts, ok := ParseFlags("2026/01/02 a library logs this\n" + out); !ok || !reflect.DeepEqual(opts, want) {
		t.Errorf("after a logged line: got %q %v, want %q", opts, ok, want)
	}
	if _, ok := ParseFlags("Token for -h: abc\n"); ok {
		t.Error("a command that does not list flags was read as a listing")
	}
}

// TestRoffIsCleanForGroff renders a page with everything that needs
// escaping and has groff check it with all warnings on.
func TestRoffIsCleanForGroff(t *testing.T) {
	p, err := ParseUsage("tool", usage)
	if err != nil {
		t.Fatal(err)
	}
	p.Version, p.Date = "1.0~git3.abc", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	p.Commands[0].Options = []Item{{"--config string", `a path\with "quotes" — and …`}}
	p.Description = append(p.Description, ".starts with a dot", "'and a quote")
	p.Files = []Item{{"/etc/tool.yaml", "The configuration."}}
	p.SeeAlso = []string{"systemctl(1)", "plain"}
	roff := p.Roff()
	for _, want := range []string{`.TH TOOL 1 "2026-01-02" "tool 1.0~git3.abc"`, `\&.starts`, `\&'and`, `\[u2014]`, `A path\ewith`, `\fB\-\-config\fR \fIstring\fR`, `\fBsystemctl\fR(1)`} {
		if !strings.Contains(roff, want) {
			t.Errorf("page lacks %q:\n%s", want, roff)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		loudskip.Skip(t, "groff not installed: the page's syntax is not checked (apt-get install groff-base)")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(roff)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff: %v\n%s\npage:\n%s", err, stderr.String(), roff)
	}
}

// TestCollectBareCommand runs Collect on a program whose usage has a line
// without command words: its options come from the program's own -h,
// each command's from its -h, and a command whose -h lists no flags has
// none.
func TestCollectBareCommand(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		loudskip.Skip(t, "no sh to run the stand-in program")
	}
	bin := filepath.Join(t.TempDir(), "tool")
	// It logs a line on standard error as it starts, as Fyne does about
	// some locales.
	script := `#!/bin/sh
echo "2026/01/02 03:04:05 Fyne error:  Error parsing user locale C" >&2
case "$*" in
help) printf 'tool \342\200\224 a window for the test\n\nUsage:\n  tool [flags]     open the window\n  tool sync [-n]   sync now\n  tool version\n\nFree text.\n' ;;
-h) printf 'Usage of tool:\n  -lang string\n    \tthe language\n  -socket string\n    \tthe socket (default "/run/x.sock")\n' >&2; exit 0 ;;
"sync -h") printf 'Usage of tool sync:\n  -n\tdry run\n' >&2; exit 2 ;;
*) echo "tool: unknown argument" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := Collect(ctx, bin, "tool", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Synopsis: "tool [flags]", Summary: "open the window", Options: []Item{{"--lang string", "the language"}, {"--socket string", `the socket (default "/run/x.sock")`}}},
		{Words: []string{"sync"}, Synopsis: "tool sync [-n]", Summary: "sync now", Options: []Item{{"-n", "dry run"}}},
		{Words: []string{"version"}, Synopsis: "tool version"},
	}
	if !reflect.DeepEqual(p.Commands, want) {
		t.Errorf("got  %+v\nwant %+v", p.Commands, want)
	}
	if p.Summary != "a window for the test" || !reflect.DeepEqual(p.Description, []string{"Free text."}) {
		t.Errorf("summary %q, description %q", p.Summary, p.Description)
	}
}
