package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// A static Go binary carries the code of every module it imports, and the
// Expat and BSD licenses of most of them ask for their notice in every
// copy, binaries included. The copyright file therefore lists each module
// with its license text, read from the module cache at build time, so a
// new dependency cannot be shipped without its notice.

func copyrightCmd(args []string) error {
	fs := flag.NewFlagSet("debdoc copyright", flag.ContinueOnError)
	head := fs.String("head", "", "the hand-written part: the format header and the project's own paragraph (required)")
	pkg := fs.String("pkg", "", "the Go main package the binary is built from, e.g. ./cmd/bab (required)")
	binary := fs.String("binary", "", "where the binary is installed, for the comments, e.g. /usr/bin/bab (required)")
	out := fs.String("out", "", "where to write the file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *head == "" || *pkg == "" || *binary == "" {
		return errors.New("-head, -pkg and -binary are needed")
	}
	h, err := os.ReadFile(*head)
	if err != nil {
		return err
	}
	mods, err := linkedModules(*pkg)
	if err != nil {
		return err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	mods = append([]module{{Path: "std", Version: runtime.Version(), Dir: strings.TrimSpace(string(goroot))}}, mods...)
	var b strings.Builder
	b.WriteString(strings.TrimRight(string(h), "\n") + "\n")
	for _, m := range mods {
		p, err := m.paragraph(*binary)
		if err != nil {
			return err
		}
		b.WriteString("\n" + p)
	}
	return write(*out, b.String())
}

type module struct{ Path, Version, Dir string }

// linkedModules lists the modules whose packages pkg's build imports,
// without the main module, for the build's GOOS, GOARCH and CGO_ENABLED.
func linkedModules(pkg string) ([]module, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{end}}{{end}}", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %v: %s", pkg, err, stderr.String())
	}
	seen := map[string]bool{}
	var mods []module
	for _, l := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		mods = append(mods, module{Path: f[0], Version: f[1], Dir: f[2]})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods, nil
}

const apachePointer = "On Debian systems, the full text of the Apache License, Version 2.0, is in /usr/share/common-licenses/Apache-2.0."

// paragraph is the module's Files paragraph with its license inline.
func (m module) paragraph(binary string) (string, error) {
	lic, licName, err := readFirst(m.Dir, "LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")
	if err != nil {
		return "", fmt.Errorf("module %s %s: no license file in %s: a dependency without a license cannot be shipped", m.Path, m.Version, m.Dir)
	}
	notice, _, _ := readFirst(m.Dir, "NOTICE", "NOTICE.txt", "NOTICE.md")
	name, err := classify(lic + "\n" + notice)
	if err != nil {
		return "", fmt.Errorf("module %s %s (%s): %w", m.Path, m.Version, licName, err)
	}
	var text []string
	if name != "Apache-2.0" {
		text = append(text, lic) // a notice the license asks to be kept
	} else if c := copyrightLines(lic); c != "" {
		text = append(text, c)
	}
	if strings.Contains(name, "Apache-2.0") {
		text = append(text, apachePointer)
	}
	if notice != "" {
		text = append(text, "NOTICE:\n"+notice)
	}
	holders := copyrightLines(notice + "\n" + lic)
	if holders == "" {
		holders = "The " + m.Path + " authors"
	}
	what := "Go module " + m.Path + " " + m.Version
	files := m.Path + "/*"
	if m.Path == "std" {
		what, files = "The Go standard library and runtime, "+m.Version, "go/*"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Files: %s\n", files)
	fmt.Fprintf(&b, "Copyright:%s\n", field(strings.Split(holders, "\n")))
	fmt.Fprintf(&b, "License: %s\n%s", name, body(strings.Join(text, "\n\n")))
	fmt.Fprintf(&b, "Comment: %s, statically linked into %s.\n", what, binary)
	return b.String(), nil
}

// classify names a license text as DEP-5 does. An unknown text is an
// error: someone has to read it and decide before it ships.
func classify(text string) (string, error) {
	apache := strings.Contains(text, "Apache License") && strings.Contains(text, "Version 2.0")
	expat := strings.Contains(text, "Permission is hereby granted, free of charge")
	bsd := strings.Contains(text, "Redistribution and use in source and binary forms")
	var names []string
	if apache {
		names = append(names, "Apache-2.0")
	}
	if expat {
		names = append(names, "Expat")
	}
	if bsd {
		if strings.Contains(text, "Neither the name") || strings.Contains(text, "neither the name") {
			names = append(names, "BSD-3-clause")
		} else {
			names = append(names, "BSD-2-clause")
		}
	}
	if len(names) == 0 {
		return "", errors.New("license not recognised (not Apache-2.0, Expat or BSD): read it, and teach scripts/debdoc its name if it may be shipped")
	}
	return strings.Join(names, " and "), nil
}

// copyrightLines are the text's "Copyright …" lines, without the word.
func copyrightLines(text string) string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(l, "Copyright")
		// Not the Apache license's how-to template: "[yyyy] [name of …]".
		if !ok || rest == "" || rest[0] != ' ' || strings.Contains(rest, "[yyyy]") {
			continue
		}
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "(c)"))
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "(C)"))
		if rest != "" && !seen[rest] {
			seen[rest] = true
			out = append(out, rest)
		}
	}
	return strings.Join(out, "\n")
}

func readFirst(dir string, names ...string) (text, name string, err error) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil {
			return strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n")), n, nil
		}
	}
	return "", "", os.ErrNotExist
}

// field formats a multi-line field value: the first line after the
// colon, each further line indented.
func field(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(" " + l)
	}
	return b.String()
}

// body formats the continuation lines of a field: indented by one space,
// an empty line written " .".
func body(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(strings.ReplaceAll(l, "\t", "    "), " ")
		if l == "" {
			b.WriteString(" .\n")
			continue
		}
		b.WriteString(" " + l + "\n")
	}
	return b.String()
}
