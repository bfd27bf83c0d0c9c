// Command debdoc writes the generated documents of the Debian packages:
// the man page from a built binary's own help, the copyright file with
// the licenses of every Go module linked into the binary, the changelog
// from git, and the console's PNG icons from its SVG. scripts/package
// runs it; each document is the same for the same commit (dates come
// from SOURCE_DATE_EPOCH).
//
//	go run ./scripts/debdoc man -bin BIN -version V [-file PATH=TEXT] [-see-also PAGE] [-out FILE]
//	go run ./scripts/debdoc copyright -head FILE -pkg ./cmd/bab -binary /usr/bin/bab [-out FILE]
//	go run ./scripts/debdoc changelog -package bab -version V -maintainer 'NAME <ADDR>' [-out FILE]
//	go run ./scripts/debdoc icon -svg FILE.svg -size 48 -out FILE.png
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: debdoc man|copyright|changelog|icon [flags]; add -h after the document for its flags")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "man":
		err = manCmd(os.Args[2:])
	case "copyright":
		err = copyrightCmd(os.Args[2:])
	case "changelog":
		err = changelogCmd(os.Args[2:])
	case "icon":
		err = iconCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown document %q: write man, copyright, changelog or icon", os.Args[1])
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "debdoc %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ", ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// write puts text in out, or on standard output when out is empty.
func write(out, text string) error {
	if out == "" {
		_, err := os.Stdout.WriteString(text)
		return err
	}
	return os.WriteFile(out, []byte(text), 0o644)
}

// buildTime is SOURCE_DATE_EPOCH when set, so that two builds of one
// commit give the same documents, and now otherwise.
func buildTime() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now().UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
