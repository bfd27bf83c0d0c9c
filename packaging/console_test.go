package packaging

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// consoleIcons are the PNG sizes the console's package installs.
var consoleIcons = []int{48, 128, 256}

// checkConsole checks what the console's package holds beyond its file
// list: Depends names the package of every library the binary links
// (ELF NEEDED, each looked up with dpkg -S on this machine), libc6 with
// a version; the desktop entry passes desktop-file-validate; the icons
// are the repository's SVG and PNGs of their sizes.
func checkConsole(t *testing.T, deb, depends string) {
	t.Helper()
	dir := t.TempDir()
	output(t, "dpkg-deb", "-x", deb, dir)

	deps := dependsPackages(depends)
	needed := regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^]]+)\]`).FindAllStringSubmatch(output(t, "readelf", "-d", filepath.Join(dir, "usr/bin/bab-console")), -1)
	if len(needed) == 0 {
		t.Errorf("bab-console: readelf names no NEEDED libraries; the console is built with cgo and links GL and X11")
	}
	for _, n := range needed {
		owners := libraryPackages(t, n[1])
		if !slices.ContainsFunc(owners, func(o string) bool { return slices.Contains(deps, o) }) {
			t.Errorf("bab-console: the binary links %s, of package %v, which Depends (%q) does not name", n[1], owners, depends)
		}
	}
	// The X11 extension libraries GLFW opens itself (their names are in
	// the binary, they are not NEEDED): Recommends names their packages.
	bin, err := os.ReadFile(filepath.Join(dir, "usr/bin/bab-console"))
	must(t, err)
	recommends := dependsPackages(strings.TrimSpace(output(t, "dpkg-deb", "-f", deb, "Recommends")))
	opened := regexp.MustCompile(`libX[a-z0-9]+\.so\.[0-9]+`).FindAll(bin, -1)
	if len(opened) == 0 {
		t.Errorf("bab-console: the binary names no X11 library it opens; the test no longer sees what GLFW loads")
	}
	for _, lib := range opened {
		if slices.ContainsFunc(needed, func(n []string) bool { return n[1] == string(lib) }) {
			continue
		}
		owners := libraryPackages(t, string(lib))
		if !slices.ContainsFunc(owners, func(o string) bool { return slices.Contains(recommends, o) }) {
			t.Errorf("bab-console: GLFW opens %s, of package %v, which Recommends (%v) does not name", lib, owners, recommends)
		}
	}
	if !regexp.MustCompile(`(^|, )libc6 \(>= [0-9][^)]*\)`).MatchString(depends) {
		t.Errorf("bab-console: Depends %q does not name libc6 with a version", depends)
	}

	desktop := filepath.Join(dir, "usr/share/applications/org.babgate.console.desktop")
	out, err := exec.Command("desktop-file-validate", desktop).CombinedOutput()
	// Hints (such as two main categories) are advice; errors and
	// warnings are not.
	if err != nil || regexpLine(string(out), `: (error|warning): `) {
		t.Errorf("bab-console: desktop-file-validate: %v\n%s", err, out)
	}
	entry, err := os.ReadFile(desktop)
	must(t, err)
	for _, want := range []string{"\nExec=bab-console\n", "\nIcon=org.babgate.console\n", "\nName[fr]=", "\nTerminal=false\n"} {
		if !strings.Contains(string(entry), want) {
			t.Errorf("bab-console: the desktop entry lacks %q:\n%s", want, entry)
		}
	}

	svg, err := os.ReadFile(filepath.Join(dir, "usr/share/icons/hicolor/scalable/apps/org.babgate.console.svg"))
	must(t, err)
	if src, err := os.ReadFile(filepath.Join("..", "ui", "icon", "org.babgate.console.svg")); err != nil || !bytes.Equal(svg, src) {
		t.Errorf("bab-console: the installed SVG icon is not ui/icon/org.babgate.console.svg, the one the console embeds (%v)", err)
	}
	for _, size := range consoleIcons {
		path := filepath.Join(dir, "usr/share/icons/hicolor", itoa(size)+"x"+itoa(size), "apps/org.babgate.console.png")
		b, err := os.ReadFile(path)
		must(t, err)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("bab-console: %s: %v", path, err)
			continue
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
			t.Errorf("bab-console: the %dx%d icon is %dx%d", size, size, r.Dx(), r.Dy())
		}
	}
}

// consoleLifecycle installs the console's package in a scratch root that
// has what its Depends names, upgrades, runs it where no display is,
// removes and purges it: nothing of it may stay.
func consoleLifecycle(t *testing.T, oldDeb, newDeb string) {
	depends := strings.TrimSpace(output(t, "dpkg-deb", "-f", newDeb, "Depends"))
	r := newScratchRoot(t, dependsPackages(depends)...)
	files := []string{"/usr/bin/bab-console", "/usr/share/applications/org.babgate.console.desktop",
		"/usr/share/icons/hicolor/scalable/apps/org.babgate.console.svg", "/usr/share/man/man1/bab-console.1.gz",
		"/usr/share/doc/bab-console/copyright", "/usr/share/doc/bab-console/changelog.gz"}
	for _, size := range consoleIcons {
		files = append(files, "/usr/share/icons/hicolor/"+itoa(size)+"x"+itoa(size)+"/apps/org.babgate.console.png")
	}

	r.dpkg(t, "-i", oldDeb)
	if st, v := dpkgStatus(t, r, "bab-console"); st != "install ok installed" || v != oldVersion {
		t.Fatalf("bab-console: dpkg says %q %q, want installed %s", st, v, oldVersion)
	}
	r.dpkg(t, "-i", newDeb)
	if st, v := dpkgStatus(t, r, "bab-console"); st != "install ok installed" || v != newVersion {
		t.Fatalf("bab-console: after the upgrade dpkg says %q %q, want installed %s", st, v, newVersion)
	}
	checkFile(t, r, "/usr/bin/bab-console", 0o755, "root", "root")
	for _, f := range files[1:] {
		checkFile(t, r, f, 0o644, "root", "root")
	}

	// The scratch root has no display: version and help need none, and
	// the binary finds its libraries.
	out, err := r.chroot("/usr/bin/bab-console", "version")
	if err != nil || !strings.Contains(out, "bab-console "+newVersion) {
		t.Errorf("bab-console version: %v %q, want bab-console %s", err, out, newVersion)
	}
	out, err = r.chroot("/usr/bin/bab-console", "help")
	if err != nil || !strings.Contains(out, "bab-console — ") || !strings.Contains(out, "bab console pair") {
		t.Errorf("bab-console help: %v\n%s", err, out)
	}
	if out, err := r.chroot("/usr/bin/bab-console", "open"); err == nil || !strings.Contains(out, "run bab-console help") {
		t.Errorf("bab-console open: %v %q, want a refusal that points at help", err, out)
	}

	man := gunzip(t, r.path("/usr/share/man/man1/bab-console.1.gz"))
	for _, want := range []string{`.TH BAB\-CONSOLE 1`, ".SH COMMANDS", `\fBhelp\fR`, `\fB\-\-socket\fR`, `\fB\-\-config\-dir\fR`, `bab\-console ` + newVersion, "/run/bab/console.sock"} {
		if !strings.Contains(man, want) {
			t.Errorf("bab-console: man page lacks %q", want)
		}
	}
	groff := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	groff.Stdin = strings.NewReader(man)
	if out, err := groff.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("bab-console: groff on the man page: %v\n%s", err, out)
	}

	r.dpkg(t, "-r", "bab-console")
	for _, f := range files {
		if _, _, _, ok := r.stat(t, f); ok {
			t.Errorf("bab-console: after remove %s is still there", f)
		}
	}
	if _, _, _, ok := r.stat(t, "/usr/share/doc/bab-console"); ok {
		t.Errorf("bab-console: after remove /usr/share/doc/bab-console is still there")
	}
	r.dpkg(t, "-P", "bab-console")
	if st, _ := dpkgStatus(t, r, "bab-console"); st != "" {
		t.Errorf("bab-console: after purge dpkg still knows it as %q", st)
	}
}

// dependsPackages are the package names of a Depends field, the first of
// each set of alternatives: "libc6 (>= 2.34), libgl1" gives libc6 and
// libgl1.
func dependsPackages(depends string) []string {
	var names []string
	for _, d := range strings.Split(depends, ",") {
		first, _, _ := strings.Cut(d, "|")
		name, _, _ := strings.Cut(strings.TrimSpace(first), " ")
		name, _, _ = strings.Cut(name, ":") // an architecture qualifier
		if name != "" {
			names = append(names, name)
		}
	}
	return names
}

// libraryPackages are the packages of this machine that hold a shared
// library of that file name, as dpkg -S says.
func libraryPackages(t *testing.T, soname string) []string {
	t.Helper()
	out, err := exec.Command("dpkg", "-S", "*/"+soname).Output()
	if err != nil {
		t.Errorf("dpkg -S */%s: %v: the binary links a library no package of this machine holds", soname, err)
		return nil
	}
	var pkgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		names, path, ok := strings.Cut(l, ": ")
		if !ok || filepath.Base(path) != soname {
			continue // a diversion's note, or another file whose name holds it
		}
		for _, n := range strings.Split(names, ", ") {
			n, _, _ = strings.Cut(n, ":")
			if !slices.Contains(pkgs, n) {
				pkgs = append(pkgs, n)
			}
		}
	}
	return pkgs
}

func itoa(n int) string { return strconv.Itoa(n) }
