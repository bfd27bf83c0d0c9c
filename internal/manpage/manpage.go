// Package manpage turns a command's own help output into a man page, so
// that the page shipped in the Debian packages says what the binary in the
// same package says: `bab help` gives the synopsis and one line per command,
// `bab CMD -h` each command's options. scripts/manpage is its command line.
package manpage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Page is what a man page is made of.
type Page struct {
	Name        string // the binary's name, e.g. "bab"
	Section     int
	Version     string // shown in the page footer
	Date        time.Time
	Summary     string // the NAME line after the dash
	Description []string
	Commands    []Command
	Files       []Item
	SeeAlso     []string // e.g. "systemctl(1)"
}

// Command is one line of the usage text, with the options its -h lists.
type Command struct {
	Words    []string // e.g. ["client", "token"]; empty for none
	Synopsis string   // as in the usage text, e.g. "bab client token NAME"
	Summary  string   // the text beside it, possibly empty
	Options  []Item
}

// Item is a term and its explanation: an option, a file.
type Item struct {
	Term, Text string
}

var (
	word = regexp.MustCompile(`^[a-z][a-z-]*$`)
	runs = regexp.MustCompile(`\s+`)
)

// ParseUsage reads a usage text in the house format: a title line
// "NAME — summary", a "Usage:" block with one indented "NAME COMMAND …"
// line per command (its explanation after a wide gap, or on the next, more
// indented line), then free text.
func ParseUsage(name, usage string) (Page, error) {
	p := Page{Name: name, Section: 1}
	lines := strings.Split(strings.TrimRight(usage, "\n"), "\n")
	if len(lines) == 0 {
		return p, errors.New("manpage: empty usage text")
	}
	title := lines[0]
	if i := strings.Index(title, "—"); i >= 0 && strings.TrimSpace(title[:i]) == name {
		p.Summary = strings.TrimSpace(title[i+len("—"):])
	} else {
		return p, fmt.Errorf("manpage: first line %q is not %q followed by a dash and a summary", title, name)
	}
	inUsage, done := false, false
	var para, cmds []string
	for _, l := range lines[1:] {
		trimmed := strings.TrimSpace(l)
		switch {
		case !done && trimmed == "Usage:":
			inUsage = true
		case inUsage && (strings.HasPrefix(trimmed, name+" ") || trimmed == name):
			cmds = append(cmds, l)
		case inUsage && trimmed != "" && strings.HasPrefix(l, "      ") && len(cmds) > 0:
			cmds[len(cmds)-1] += "\n" + trimmed
		case inUsage && trimmed == "":
			inUsage, done = false, true
		case inUsage:
			return p, fmt.Errorf("manpage: usage line %q neither starts with %q nor continues the line above", l, name)
		case trimmed == "":
			if len(para) > 0 {
				p.Description = append(p.Description, strings.Join(para, " "))
				para = nil
			}
		default:
			para = append(para, trimmed)
		}
	}
	col := noteColumn(cmds)
	for _, l := range cmds {
		p.Commands = append(p.Commands, parseCommand(l, col))
	}
	if len(para) > 0 {
		p.Description = append(p.Description, strings.Join(para, " "))
	}
	if len(p.Commands) == 0 {
		return p, fmt.Errorf("manpage: no command lines under \"Usage:\" starting with %q", name)
	}
	return p, nil
}

// noteColumn is where the notes beside the commands start: the column most
// often preceded by two spaces and starting a lowercase word. Narrower
// gaps before it only align the commands' arguments.
func noteColumn(lines []string) int {
	count := map[int]int{}
	for _, l := range lines {
		first, _, _ := strings.Cut(l, "\n")
		for i := 3; i < len(first); i++ { // past the indentation
			if first[i-2:i] == "  " && first[i] >= 'a' && first[i] <= 'z' {
				count[i]++
			}
		}
	}
	best := -1
	for c, n := range count {
		if best < 0 || n > count[best] || n == count[best] && c > best {
			best = c
		}
	}
	return best
}

func parseCommand(line string, col int) Command {
	var c Command
	line, more, _ := strings.Cut(line, "\n")
	syn := line
	if col > 2 && len(line) > col && line[col-2:col] == "  " && line[col] >= 'a' && line[col] <= 'z' {
		syn, c.Summary = line[:col], strings.TrimSpace(line[col:])
	}
	c.Summary = strings.TrimSpace(c.Summary + " " + strings.ReplaceAll(more, "\n", " "))
	c.Synopsis = runs.ReplaceAllString(strings.TrimSpace(syn), " ")
	fields := strings.Fields(c.Synopsis)[1:]
	for i, f := range fields {
		// "policy rollout status | promote | abort": the alternatives are
		// arguments of "policy rollout".
		if !word.MatchString(f) || i+1 < len(fields) && fields[i+1] == "|" {
			break
		}
		c.Words = append(c.Words, f)
	}
	return c
}

// ParseFlags reads what Go's flag package prints for -h: "Usage of NAME:",
// then "  -flag type" lines each followed by tab-indented explanation lines.
// Lines before "Usage of" are skipped: what a library logs as the program
// starts (Fyne does, about some locales). ok is false when the text is
// not such a listing (the command does not take -h).
func ParseFlags(text string) (opts []Item, ok bool) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Usage of ") })
	if start < 0 {
		return nil, false
	}
	for _, l := range lines[start+1:] {
		switch {
		case strings.HasPrefix(l, "  -"):
			// A one-letter flag without a value has its explanation on
			// the same line, after a tab.
			head, text, _ := strings.Cut(strings.TrimSpace(l), "\t")
			name, typ, _ := strings.Cut(head, " ")
			if len(name) > 2 {
				name = "-" + name // the house style writes --flag, and -o
			}
			term := strings.TrimSpace(name + " " + strings.TrimSpace(typ))
			opts = append(opts, Item{Term: term, Text: strings.TrimSpace(text)})
		case strings.TrimSpace(l) != "" && len(opts) > 0:
			o := &opts[len(opts)-1]
			o.Text = strings.TrimSpace(o.Text + " " + strings.TrimSpace(l))
		}
	}
	return opts, true
}

// Collect runs bin's help and each command's -h and returns the page.
// A usage line without command words ("NAME [flags]", the program run
// bare, as bab-console is) gets the options NAME -h lists. Each run is
// bounded by timeout; a command whose -h does not print a flag listing
// simply has no options on the page.
func Collect(ctx context.Context, bin, name string, timeout time.Duration) (Page, error) {
	// The usage is on standard output, where help prints it; standard
	// error may hold what a library logs as the program starts.
	out, _, err := run(ctx, timeout, bin, "help")
	if err != nil {
		return Page{}, fmt.Errorf("manpage: %s help: %w", bin, err)
	}
	p, err := ParseUsage(name, out)
	if err != nil {
		return p, err
	}
	for i, c := range p.Commands {
		// Go's flag package prints the listing on standard error, or
		// where the program told it to.
		stdout, stderr, _ := run(ctx, timeout, bin, append(append([]string(nil), c.Words...), "-h")...)
		opts, ok := ParseFlags(stderr)
		if !ok {
			opts, ok = ParseFlags(stdout)
		}
		if ok {
			p.Commands[i].Options = opts
		}
	}
	return p, nil
}

func run(ctx context.Context, timeout time.Duration, bin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		err = nil // -h exits 2 after printing; the text decides
	}
	return out.String(), errOut.String(), err
}
