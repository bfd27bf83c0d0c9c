package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for text, want := range map[string]string{
		"Apache License\nVersion 2.0, January 2004":                                                                                                                                                          "Apache-2.0",
		"Permission is hereby granted, free of charge, to any person":                                                                                                                                        "Expat",
		"Redistribution and use in source and binary forms ... Neither the name of Google":                                                                                                                   "BSD-3-clause",
		"Redistribution and use in source and binary forms, with or without modification":                                                                                                                    "BSD-2-clause",
		"MIT: Permission is hereby granted, free of charge\n\nApache License, Version 2.0 ...":                                                                                                               "Apache-2.0 and Expat",
		"Permission to use, copy, modify, and/or distribute this software for any purpose\nwith or without fee is hereby granted":                                                                            "ISC",
		"This software is provided 'as-is', without any express or implied\nwarranty. ... Permission is granted to anyone to use this software for any purpose":                                              "Zlib",
		"SIL OPEN FONT LICENSE Version 1.1 ... Permission is hereby granted, free of charge, to any person obtaining a copy of the Font Software":                                                            "OFL-1.1",
		"Bitstream Vera Fonts Copyright ... Permission is hereby granted, free of charge ... the Font Software ... Arev Fonts Copyright":                                                                     "Bitstream-Vera and Arev",
		"Mozilla Public License, version 2.0\n\n1. Definitions ... LICENSE-BSD:\nRedistribution and use in source and binary forms ... Neither the name":                                                     "BSD-3-clause and MPL-2.0",
		"SPDX-License-Identifier: Unlicense OR BSD-3-Clause\nThis is free and unencumbered software released into the public domain. Redistribution and use in source and binary forms ... Neither the name": "BSD-3-clause or Unlicense",
	} {
		got, err := classify(text)
		if err != nil || got != want {
			t.Errorf("classify(%.30q) = %q, %v; want %q", text, got, err, want)
		}
	}
	if _, err := classify("GNU GENERAL PUBLIC LICENSE Version 3"); err == nil {
		t.Error("an unknown license was accepted; it must stop the build until someone reads it")
	}
}

// TestModuleParagraph: an Expat module keeps its whole notice, an Apache
// one points at the common license and keeps its NOTICE, and continuation
// lines are DEP-5's (one space, "." for an empty line).
func TestModuleParagraph(t *testing.T) {
	expat := t.TempDir()
	mustWrite(t, filepath.Join(expat, "LICENSE"), []byte("Copyright (c) 2016 Someone\n\nPermission is hereby granted, free of charge, to any person.\n\tIndented.\n"))
	p, err := module{Path: "example.org/expat", Version: "v1.0.0", Dir: expat}.paragraph("/usr/bin/bab")
	if err != nil {
		t.Fatal(err)
	}
	want := "Files: example.org/expat/*\nCopyright: 2016 Someone\nLicense: Expat\n Copyright (c) 2016 Someone\n .\n Permission is hereby granted, free of charge, to any person.\n     Indented.\nComment: Go module example.org/expat v1.0.0, statically linked into /usr/bin/bab.\n"
	if p != want {
		t.Errorf("got:\n%s\nwant:\n%s", p, want)
	}

	apache := t.TempDir()
	mustWrite(t, filepath.Join(apache, "LICENSE"), []byte("Apache License\nVersion 2.0\n...\nCopyright [yyyy] [name of copyright owner]\n"))
	mustWrite(t, filepath.Join(apache, "NOTICE"), []byte("Thing\nCopyright 2018 Thing, Inc\n"))
	p, err = module{Path: "example.org/apache", Version: "v2.0.0", Dir: apache}.paragraph("/usr/bin/bab")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Copyright: 2018 Thing, Inc\n", "License: Apache-2.0\n " + apachePointer + "\n .\n NOTICE:\n Thing\n"} {
		if !strings.Contains(p, want) {
			t.Errorf("Apache paragraph lacks %q:\n%s", want, p)
		}
	}
	if strings.Contains(p, "[yyyy]") {
		t.Errorf("the license's template line was taken for a copyright:\n%s", p)
	}

	if _, err := (module{Path: "example.org/none", Dir: t.TempDir()}).paragraph("/usr/bin/bab"); err == nil {
		t.Error("a module without a license file was accepted")
	}
}

// TestNestedLicenses: the license files that govern what a build links
// beside the module's own: a linked package's directory and those above
// it, what it embeds, the C sources of a cgo package; not a directory
// nothing linked uses, nor the module's root.
func TestNestedLicenses(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"LICENSE":                       "the module's own",
		"theme/theme.go":                "package theme",
		"theme/font/Sans.ttf":           "font",
		"theme/font/LICENSE_Sans.txt":   "SIL OPEN FONT LICENSE Version 1.1",
		"vendored/LICENSE":              "Permission is hereby granted, free of charge",
		"vendored/port/port.go":         "package port",
		"glfw.go":                       "package glfw",
		"glfw/LICENSE.md":               "This software is provided 'as-is', without any express or implied warranty. Permission is granted to anyone to use this software for any purpose",
		"glfw/src/x11.c":                "int x;",
		"assets/LICENSE.md":             "a logo's license, for nothing linked",
		"assets/logo.png":               "png",
		"unlinked/LICENSE":              "another package's",
		"unlinked/unlinked.go":          "package unlinked",
		"theme/testdata/LICENSE":        "test data's",
		"vendored/port/COPYING.go":      "package port // not a license",
		"vendored/port/NOTICE":          "Apache License Version 2.0",
		"theme/font/README":             "not a license",
		"glfw/src/dummy/LICENSE.unused": "no C here",
	}
	for name, text := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, path, []byte(text))
	}
	m := module{Path: "example.org/m", Version: "v1.0.0", Dir: root, Pkgs: []linkedPkg{
		{Dir: root, Cgo: true},
		{Dir: filepath.Join(root, "theme"), Embeds: []string{"font/Sans.ttf"}},
		{Dir: filepath.Join(root, "vendored", "port")},
	}}
	got, err := m.nestedLicenses()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"glfw":          {"LICENSE.md"},
		"theme/font":    {"LICENSE_Sans.txt"},
		"vendored":      {"LICENSE"},
		"vendored/port": {"NOTICE"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	paras, err := m.nestedParagraphs("/usr/bin/x")
	if err != nil {
		t.Fatal(err)
	}
	if len(paras) != 4 || !strings.HasPrefix(paras[0], "Files: example.org/m/glfw/*\nCopyright: The authors named in example.org/m/glfw\nLicense: Zlib\n LICENSE.md:\n") ||
		!strings.Contains(paras[1], "License: OFL-1.1\n") || !strings.HasSuffix(paras[0], "Comment: Part of Go module example.org/m v1.0.0, linked into /usr/bin/x, under the license files of glfw: LICENSE.md.\n") {
		t.Errorf("paragraphs:\n%s", strings.Join(paras, "\n"))
	}
}

func TestCopyrightLines(t *testing.T) {
	text := "Copyright (c) 2016 Someone\nCopyright Holder(s) may not\nCopyright notice must stay\nCopyright [yyyy] [name of copyright owner]\nCopyright © 2019 Other\n"
	if got, want := copyrightLines(text), "2016 Someone\n2019 Other"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestChangelog(t *testing.T) {
	when := time.Date(2026, 11, 22, 12, 49, 47, 0, time.UTC)
	long := strings.Repeat("word ", 40)
	got := changelog("bab", "0.1.0~git3.abc1234", "Bab maintainers <m@example.org>", "abc1234", []string{"First change", long}, when)
	lines := strings.Split(got, "\n")
	if lines[0] != "bab (0.1.0~git3.abc1234) unstable; urgency=medium" {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(got, "\n -- Bab maintainers <m@example.org>  Sun, 22 Nov 2026 12:49:47 +0000\n") {
		t.Errorf("no trailer line in:\n%s", got)
	}
	if !strings.Contains(got, "  * Built from commit abc1234") || !strings.Contains(got, "    - First change\n") {
		t.Errorf("entries missing:\n%s", got)
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("line longer than 80 columns: %q", l)
		}
	}
	if strings.Count(got, "word") != 40 {
		t.Errorf("wrapping lost words:\n%s", got)
	}
	if none := changelog("bab", "1", "M <m@example.org>", "", nil, when); !strings.Contains(none, "without git history") {
		t.Errorf("no note for a tree without git:\n%s", none)
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIcon rasterises the console's icon: a square PNG of the size asked,
// transparent in the tile's rounded corners and opaque at its centre, the
// same bytes twice; and an SVG with an element the renderer does not
// know is refused rather than drawn with a gap.
func TestIcon(t *testing.T) {
	svg, err := os.ReadFile(filepath.Join("..", "..", "ui", "icon", "org.babgate.console.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{48, 128, 256} {
		b, err := rasterise(svg, size)
		if err != nil {
			t.Fatalf("%d: %v", size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%d: %v", size, err)
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
			t.Errorf("%d: the PNG is %v", size, r)
		}
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%d: the corner is not transparent (alpha %d)", size, a)
		}
		if _, _, _, a := img.At(size/2, size/2).RGBA(); a != 0xffff {
			t.Errorf("%d: the centre is not opaque (alpha %d)", size, a)
		}
		again, err := rasterise(svg, size)
		if err != nil || !bytes.Equal(b, again) {
			t.Errorf("%d: a second rendering differs (%v)", size, err)
		}
	}
	exotic := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><filter id="f"/><path d="M0 0H16V16Z"/></svg>`)
	if _, err := rasterise(exotic, 16); err == nil {
		t.Error("an SVG with a filter was drawn without it")
	}
	if _, err := rasterise([]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 8"/>`), 16); err == nil {
		t.Error("a viewBox that is not square was accepted")
	}
}
