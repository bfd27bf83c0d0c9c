package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for text, want := range map[string]string{
		"Apache License\nVersion 2.0, January 2004":                                            "Apache-2.0",
		"Permission is hereby granted, free of charge, to any person":                          "Expat",
		"Redistribution and use in source and binary forms ... Neither the name of Google":     "BSD-3-clause",
		"Redistribution and use in source and binary forms, with or without modification":      "BSD-2-clause",
		"MIT: Permission is hereby granted, free of charge\n\nApache License, Version 2.0 ...": "Apache-2.0 and Expat",
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
