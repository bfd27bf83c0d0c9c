package yamlconf

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlErr matches yaml's syntax error text: "yaml: line 3: found ...".
var yamlErr = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns a yaml syntax error into an *Error with a plain message.
func syntaxError(file string, data []byte, err error) *Error {
	m := yamlErr.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	if line == 0 {
		line = badTextLine(data)
	}
	return &Error{File: file, Line: line, Msg: reword(m[2], lineText(data, line))}
}

// lineText returns the text of the 1-based line n of data, "" if none.
func lineText(data []byte, n int) string {
	if n <= 0 {
		return ""
	}
	lines := bytes.Split(data, []byte("\n"))
	if n > len(lines) {
		return ""
	}
	return string(lines[n-1])
}

// badTextLine returns the line of the first byte that is not valid UTF-8
// or is a control character YAML refuses, 0 if there is none.
func badTextLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1,
			r < 0x20 && r != '\t' && r != '\n' && r != '\r',
			r == 0x7f, r >= 0x80 && r <= 0x9f && r != 0x85:
			return line
		case r == '\n':
			line++
		}
		i += size
	}
	return 0
}

// rewordings maps the start of yaml's messages to plain ones.
var rewordings = []struct{ prefix, plain string }{
	{"found character that cannot start any token", "a character here cannot start a value (quote the value if it starts with @, ` or %)"},
	{"mapping values are not allowed in this context", `unexpected ":" (quote a value that contains ": ", or check the indentation)`},
	{"did not find expected key", `the indentation is wrong in the block that starts here, or a key in it is missing its ":"`},
	{"could not find expected ':'", `a key here is missing its ":" (write "key: value")`},
	{"did not find expected '-' indicator", `the indentation of this list is wrong (every item starts with "- " at the same column)`},
	{"block sequence entries are not allowed in this context", `a list item ("- ") is not allowed here; check the indentation`},
	{"did not find expected node content", "a value is missing here"},
	{"found unexpected end of stream", "the file ends too early (is a quote or bracket left open?)"},
	{"found unexpected end of stream while scanning a quoted scalar", "a quoted value is not closed"},
	{"did not find expected ',' or ']'", `a list written in [brackets] is not closed with "]"`},
	{"did not find expected ',' or '}'", `a mapping written in {braces} is not closed with "}"`},
	{"control characters are not allowed", "the file contains control characters; it must be plain text"},
	{"invalid leading UTF-8 octet", "the file is not valid UTF-8 text"},
	{"invalid trailing UTF-8 octet", "the file is not valid UTF-8 text"},
	{"incomplete UTF-8 octet sequence", "the file is not valid UTF-8 text"},
	{"found a tab character that violates indentation", "a tab is used for indentation; indent with spaces only"},
	{"found a tab character where an indentation space is expected", "a tab is used for indentation; indent with spaces only"},
	{"did not find expected <document start>", `unexpected text after the end of the document ("..."); a config file holds exactly one`},
	{"found duplicate anchor", "an anchor (&name) is defined twice"},
	{"unknown anchor", "an alias (*name) refers to an anchor that is not defined"},
}

// reword returns a plain version of yaml message msg about line text.
func reword(msg, text string) string {
	if strings.HasPrefix(strings.TrimLeft(text, " "), "\t") ||
		(strings.Contains(text, "\t") && strings.HasPrefix(msg, "found character that cannot start any token")) {
		return "a tab is used for indentation; indent with spaces only"
	}
	best := ""
	plain := ""
	for _, r := range rewordings {
		if strings.HasPrefix(msg, r.prefix) && len(r.prefix) > len(best) {
			best, plain = r.prefix, r.plain
		}
	}
	if plain != "" {
		return plain
	}
	return "not valid YAML: " + msg
}

// trimPrefix removes yaml's "yaml: " prefix from a message.
func trimPrefix(s string) string {
	return strings.TrimPrefix(s, "yaml: ")
}
