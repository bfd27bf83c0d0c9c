package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"unicode"
)

// A static Go binary carries the code of every module it imports, and the
// Expat and BSD licenses of most of them ask for their notice in every
// copy, binaries included. The copyright file therefore lists each module
// with its license text, read from the module cache at build time, so a
// new dependency cannot be shipped without its notice; and, beside it,
// the license files inside the module that govern code or data it carries
// from elsewhere (a C library it compiles, fonts it embeds).

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
		nested, err := m.nestedParagraphs(*binary)
		if err != nil {
			return err
		}
		for _, p := range nested {
			b.WriteString("\n" + p)
		}
	}
	return write(*out, b.String())
}

type module struct {
	Path, Version, Dir string
	// Pkgs are the module's packages that the build links.
	Pkgs []linkedPkg
}

// linkedPkg is a linked package: its directory, the files it embeds
// (relative to it) and whether it compiles C code with cgo.
type linkedPkg struct {
	Dir    string
	Embeds []string
	Cgo    bool
}

// linkedModules lists the modules whose packages pkg's build imports,
// without the main module, for the build's GOOS, GOARCH and CGO_ENABLED.
func linkedModules(pkg string) ([]module, error) {
	const format = "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{.Dir}}\t{{$.Dir}}\t{{len $.CgoFiles}}\t{{join $.EmbedFiles \"\\x00\"}}{{end}}{{end}}"
	cmd := exec.Command("go", "list", "-deps", "-f", format, pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %v: %s", pkg, err, stderr.String())
	}
	index := map[string]int{}
	var mods []module
	for _, l := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			continue
		}
		i, ok := index[f[0]]
		if !ok {
			i = len(mods)
			index[f[0]] = i
			mods = append(mods, module{Path: f[0], Version: f[1], Dir: f[2]})
		}
		p := linkedPkg{Dir: f[3], Cgo: f[4] != "0"}
		if f[5] != "" {
			p.Embeds = strings.Split(f[5], "\x00")
		}
		mods[i].Pkgs = append(mods[i].Pkgs, p)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods, nil
}

// isLicenseFile reports whether a file's name says it holds a license
// or a notice: LICENSE, LICENSE_Inter.txt, COPYING.txt, NOTICE…
func isLicenseFile(name string) bool {
	u := strings.ToUpper(name)
	if strings.HasSuffix(u, ".GO") {
		return false
	}
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// nestedLicenses finds the license files inside the module that govern
// part of what the build links, beyond the module's own license at its
// root. A linked package uses its own directory, the directories of the
// files it embeds (the fonts of Fyne's theme) and, when it compiles C
// code with cgo, the directories under it holding C sources (GLFW's, in
// go-gl/glfw); the license files of each directory it uses and of those
// between it and the module's root count (code a module carries from
// elsewhere, like HarfBuzz's port in go-text/typesetting). The result
// maps a directory, relative to the module's root, to its license files'
// names, sorted.
func (m module) nestedLicenses() (map[string][]string, error) {
	used := map[string]bool{}
	for _, p := range m.Pkgs {
		used[p.Dir] = true
		for _, e := range p.Embeds {
			used[filepath.Dir(filepath.Join(p.Dir, e))] = true
		}
		if !p.Cgo {
			continue
		}
		err := filepath.WalkDir(p.Dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p.Dir && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			switch filepath.Ext(path) {
			case ".c", ".h", ".m":
				used[filepath.Dir(path)] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	found := map[string]map[string]bool{}
	for dir := range used {
		for d := dir; strings.HasPrefix(d, m.Dir+string(filepath.Separator)); d = filepath.Dir(d) {
			rel, err := filepath.Rel(m.Dir, d)
			if err != nil {
				return nil, err
			}
			if found[rel] != nil {
				continue // seen from another directory
			}
			found[rel] = map[string]bool{}
			entries, err := os.ReadDir(d)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.Type().IsRegular() && isLicenseFile(e.Name()) {
					found[rel][e.Name()] = true
				}
			}
		}
	}
	out := map[string][]string{}
	for dir, names := range found {
		for n := range names {
			out[dir] = append(out[dir], n)
		}
		sort.Strings(out[dir])
	}
	return out, nil
}

// nestedParagraphs are the Files paragraphs of the module's nested
// license files, one per directory, sorted by directory.
func (m module) nestedParagraphs(binary string) ([]string, error) {
	nested, err := m.nestedLicenses()
	if err != nil {
		return nil, err
	}
	dirs := make([]string, 0, len(nested))
	for d := range nested {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []string
	for _, dir := range dirs {
		var names, texts, all []string
		seen := map[string]bool{}
		for _, f := range nested[dir] {
			b, err := os.ReadFile(filepath.Join(m.Dir, dir, f))
			if err != nil {
				return nil, err
			}
			lic := strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n"))
			name, err := classify(lic)
			if err != nil {
				return nil, fmt.Errorf("module %s %s (%s): %w", m.Path, m.Version, filepath.Join(dir, f), err)
			}
			for _, n := range strings.Split(name, " and ") {
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
			all = append(all, lic)
			texts = append(texts, f+":\n"+licenseText(name, lic))
		}
		rel := filepath.ToSlash(dir)
		holders := copyrightLines(strings.Join(all, "\n"))
		if holders == "" {
			holders = "The authors named in " + m.Path + "/" + rel
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Files: %s/%s/*\n", m.Path, rel)
		fmt.Fprintf(&b, "Copyright:%s\n", field(strings.Split(holders, "\n")))
		fmt.Fprintf(&b, "License: %s\n%s", strings.Join(names, " and "), body(strings.Join(texts, "\n\n")))
		fmt.Fprintf(&b, "Comment: Part of Go module %s %s, linked into %s, under the license files of %s: %s.\n", m.Path, m.Version, binary, rel, strings.Join(nested[dir], ", "))
		out = append(out, b.String())
	}
	return out, nil
}

const apachePointer = "On Debian systems, the full text of the Apache License, Version 2.0, is in /usr/share/common-licenses/Apache-2.0."

// paragraph is the module's Files paragraph with its license inline.
func (m module) paragraph(binary string) (string, error) {
	lic, licName, err := readFirst(m.Dir, "LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING", "COPYING.txt")
	if err != nil {
		return "", fmt.Errorf("module %s %s: no license file in %s: a dependency without a license cannot be shipped", m.Path, m.Version, m.Dir)
	}
	notice, _, _ := readFirst(m.Dir, "NOTICE", "NOTICE.txt", "NOTICE.md")
	if more, err := otherLicenses(m.Dir, licName); err != nil {
		return "", err
	} else if more != "" {
		lic += "\n\n" + more
	}
	name, err := classify(lic + "\n" + notice)
	if err != nil {
		return "", fmt.Errorf("module %s %s (%s): %w", m.Path, m.Version, licName, err)
	}
	text := []string{licenseText(name, lic)}
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

// otherLicenses are the license files beside the main one at a module's
// root (LICENSE-BSD for code taken from elsewhere, say), each under its
// name.
func otherLicenses(dir, main string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || n == main || !isLicenseFile(n) || strings.HasPrefix(strings.ToUpper(n), "NOTICE") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		out = append(out, n+":\n"+strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n")))
	}
	return strings.Join(out, "\n\n"), nil
}

// licenseText is what the copyright file keeps of a license: the whole
// text, a notice the license asks to be kept, except for the Apache
// license, which Debian has in /usr/share/common-licenses (its copyright
// lines and a pointer there instead).
func licenseText(name, lic string) string {
	var text []string
	if name != "Apache-2.0" {
		text = append(text, lic)
	} else if c := copyrightLines(lic); c != "" {
		text = append(text, c)
	}
	if strings.Contains(name, "Apache-2.0") {
		text = append(text, apachePointer)
	}
	return strings.Join(text, "\n\n")
}

// spdxOr is an SPDX line offering a choice of licenses.
var spdxOr = regexp.MustCompile(`SPDX-License-Identifier: \S+ OR `)

// classify names a license text as DEP-5 does. An unknown text is an
// error: someone has to read it and decide before it ships.
func classify(text string) (string, error) {
	text = strings.Join(strings.Fields(text), " ") // the phrases may wrap anywhere
	has := func(phrases ...string) bool {
		for _, p := range phrases {
			if !strings.Contains(text, p) {
				return false
			}
		}
		return true
	}
	var names []string
	add := func(ok bool, name string) {
		if ok {
			names = append(names, name)
		}
	}
	// The font licenses borrow the MIT license's wording.
	vera := has("Bitstream Vera", "Font Software")
	ofl := has("SIL OPEN FONT LICENSE Version 1.1")
	add(has("Apache License", "Version 2.0"), "Apache-2.0")
	add(!vera && !ofl && has("Permission is hereby granted, free of charge"), "Expat")
	if has("Redistribution and use in source and binary forms") {
		if has("Neither the name") || has("neither the name") {
			names = append(names, "BSD-3-clause")
		} else {
			names = append(names, "BSD-2-clause")
		}
	}
	add(has("Permission to use, copy, modify", "this software for any purpose with or without fee is hereby granted"), "ISC")
	add(has("This software is provided 'as-is', without any express or implied warranty", "Permission is granted to anyone to use this software for any purpose"), "Zlib")
	add(ofl, "OFL-1.1")
	add(vera, "Bitstream-Vera")
	add(vera && has("Arev Fonts"), "Arev")
	add(has("This is free and unencumbered software released into the public domain"), "Unlicense")
	add(has("Mozilla Public License, version 2.0"), "MPL-2.0")
	if len(names) == 0 {
		return "", errors.New("license not recognised (not Apache-2.0, Expat, BSD, ISC, Zlib, OFL-1.1, Bitstream-Vera, Unlicense or MPL-2.0): read it, and teach scripts/debdoc its name if it may be shipped")
	}
	if spdxOr.MatchString(text) {
		return strings.Join(names, " or "), nil
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
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "©"))
		// Nor the font license's clauses about the "Copyright Holder(s)"
		// or a sentence going on about "copyright notices".
		if first, _, _ := strings.Cut(rest, " "); strings.HasPrefix(first, "Holder") || first != "" && unicode.IsLower([]rune(first)[0]) {
			continue
		}
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
