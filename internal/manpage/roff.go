package manpage

import (
	"fmt"
	"strings"
)

// Roff renders the page in the man macro package.
func (p Page) Roff() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line(`.TH %s %d "%s" "%s" "Bab"`, strings.ToUpper(esc(p.Name)), p.Section, p.Date.UTC().Format("2006-01-02"), esc(p.Name+" "+p.Version))
	line(".nh") // command lines are not to be hyphenated
	line(".ad l")
	line(".SH NAME")
	line(`%s \- %s`, esc(p.Name), esc(p.Summary))
	line(".SH SYNOPSIS")
	line(".nf")
	for _, c := range p.Commands {
		line(`%s`, synopsis(c.Synopsis))
	}
	line(".fi")
	if len(p.Description) > 0 {
		line(".SH DESCRIPTION")
		for i, d := range p.Description {
			if i > 0 {
				line(".PP")
			}
			line("%s", text(d))
		}
	}
	line(".SH COMMANDS")
	for _, c := range p.Commands {
		line(".TP")
		line("%s", synopsis(c.Synopsis))
		if c.Summary != "" {
			line("%s", text(sentence(c.Summary)))
		}
		if len(c.Options) > 0 {
			line(".RS")
			for _, o := range c.Options {
				line(".TP")
				line("%s", option(o.Term))
				line("%s", text(sentence(o.Text)))
			}
			line(".RE")
		}
	}
	items := func(title string, list []Item) {
		if len(list) == 0 {
			return
		}
		line(".SH %s", title)
		for _, f := range list {
			line(".TP")
			line(`.I %s`, esc(f.Term))
			line("%s", text(f.Text))
		}
	}
	items("FILES", p.Files)
	if len(p.SeeAlso) > 0 {
		line(".SH SEE ALSO")
		refs := make([]string, len(p.SeeAlso))
		for i, s := range p.SeeAlso {
			name, sec, ok := strings.Cut(strings.TrimSuffix(s, ")"), "(")
			if ok {
				refs[i] = fmt.Sprintf(`\fB%s\fR(%s)`, esc(name), esc(sec))
			} else {
				refs[i] = esc(s)
			}
		}
		line("%s", strings.Join(refs, ", "))
	}
	return b.String()
}

// synopsis sets the words of a command in bold, its arguments in italics.
func synopsis(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		switch {
		case word.MatchString(f):
			out = append(out, `\fB`+esc(f)+`\fR`)
		default:
			out = append(out, esc(f))
		}
	}
	return guard(strings.Join(out, " "))
}

func option(term string) string {
	name, arg, _ := strings.Cut(term, " ")
	s := `\fB` + esc(name) + `\fR`
	if arg != "" {
		s += ` \fI` + esc(arg) + `\fR`
	}
	return guard(s)
}

func text(s string) string { return guard(esc(s)) }

// esc makes s safe as roff text: backslashes and hyphens escaped, anything
// beyond ASCII as a named Unicode glyph.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e || r < 0x20:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// guard keeps a text line from being read as a request.
func guard(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

// sentence turns a usage line's note into a sentence: a capital first,
// a full stop last.
func sentence(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
