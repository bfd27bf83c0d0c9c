package main

import (
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// The packages are native (the version has no Debian revision), so their
// changelog is the project's: one entry for the version being built, with
// the commit it was built from and the latest commit subjects.

func changelogCmd(args []string) error {
	fs := flag.NewFlagSet("debdoc changelog", flag.ContinueOnError)
	pkg := fs.String("package", "", "the package's name (required)")
	version := fs.String("version", "", "the package's version (required)")
	maintainer := fs.String("maintainer", "", "NAME <ADDRESS> signing the entry (required)")
	count := fs.Int("changes", 15, "how many commit subjects to list")
	out := fs.String("out", "", "where to write it (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pkg == "" || *version == "" || *maintainer == "" {
		return errors.New("-package, -version and -maintainer are needed")
	}
	when, err := buildTime()
	if err != nil {
		return err
	}
	commit, subjects := gitHistory(*count)
	return write(*out, changelog(*pkg, *version, *maintainer, commit, subjects, when))
}

// gitHistory is the short hash of HEAD and the latest commit subjects, or
// nothing outside a git checkout.
func gitHistory(n int) (commit string, subjects []string) {
	h, err := exec.Command("git", "rev-parse", "--short=7", "HEAD").Output()
	if err != nil {
		return "", nil
	}
	s, err := exec.Command("git", "log", fmt.Sprintf("-%d", n), "--format=%s").Output()
	if err != nil {
		return strings.TrimSpace(string(h)), nil
	}
	for _, l := range strings.Split(strings.TrimSpace(string(s)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			subjects = append(subjects, l)
		}
	}
	return strings.TrimSpace(string(h)), subjects
}

func changelog(pkg, version, maintainer, commit string, subjects []string, when time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) unstable; urgency=medium\n\n", pkg, version)
	first := "Built from a source tree without git history."
	if commit != "" {
		first = "Built from commit " + commit + " of the Bab repository."
		if len(subjects) > 0 {
			first += " Latest changes:"
		}
	}
	b.WriteString(bullet("*", first))
	for _, s := range subjects {
		b.WriteString(bullet("  -", s))
	}
	fmt.Fprintf(&b, "\n -- %s  %s\n", maintainer, when.Format(time.RFC1123Z))
	return b.String()
}

// bullet wraps text to 78 columns after "  MARK ", continuation lines
// aligned under the text.
func bullet(mark, text string) string {
	lead := "  " + mark + " "
	indent := strings.Repeat(" ", len(lead))
	var b strings.Builder
	line, empty := lead, true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > 78 {
			b.WriteString(line + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line, empty = line+w, false
	}
	return b.String() + line + "\n"
}
