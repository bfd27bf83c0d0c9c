package doccheck

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// moduleRoot is two levels up from this package's directory.
const moduleRoot = "../.."

// goFiles lists the .go files of every package directory under the module
// root, by directory. testdata, hidden and underscore directories are not
// packages to the go command, and nested modules are not ours.
func goFiles(t *testing.T) map[string][]string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(moduleRoot, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	dirs := map[string][]string{}
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == moduleRoot {
				return nil
			}
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestPackageDocs checks that every package has a doc comment that starts
// the way go doc expects: "Package x ..." or, for a command, "Command x
// ...". A directory with only test files needs one in a test file.
func TestPackageDocs(t *testing.T) {
	dirs := goFiles(t)
	if len(dirs) < 10 {
		t.Fatalf("found only %d package directories under %s; the walk is broken", len(dirs), moduleRoot)
	}
	var missing []string
	for dir, files := range dirs {
		var src, tests []string
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				tests = append(tests, f)
			} else {
				src = append(src, f)
			}
		}
		if len(src) == 0 {
			src = tests
		}
		rel, _ := filepath.Rel(moduleRoot, dir)
		ok, err := hasPackageDoc(src, filepath.Base(dir))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !ok {
			missing = append(missing, filepath.ToSlash(rel))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s: no package doc comment (\"// Package x ...\", or \"// Command x ...\" for a main package)", m)
	}
}

func hasPackageDoc(files []string, dirName string) (bool, error) {
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return false, err
		}
		if f.Doc == nil {
			continue
		}
		text := f.Doc.Text()
		name := f.Name.Name
		if name == "main" {
			if strings.HasPrefix(text, "Command "+dirName+" ") {
				return true, nil
			}
			continue
		}
		if strings.HasPrefix(text, "Package "+strings.TrimSuffix(name, "_test")+" ") {
			return true, nil
		}
	}
	return false, nil
}

// daemons are the binaries that run on servers: static, without cgo, and
// without the desktop toolkit that only the console may use.
var daemons = []string{"./cmd/bab", "./cmd/bab-exchange"}

// goList runs go list -deps on the daemons with cgo set as given and
// returns one line per package.
func goList(t *testing.T, cgo string, format string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed for the dependency check: %v", err)
	}
	args := append([]string{"list", "-deps", "-f", format}, daemons...)
	cmd := exec.Command(gobin, args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s with CGO_ENABLED=%s: %v\n%s", strings.Join(args, " "), cgo, err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestDaemonDependencies keeps the daemons free of Fyne and cgo. With
// CGO_ENABLED=0 the build graph must resolve (a package that needs cgo
// would fail to list) and hold nothing from fyne.io. With cgo enabled, no
// package outside the standard library may bring C files: the standard
// library has pure Go fallbacks, a third-party package may not.
func TestDaemonDependencies(t *testing.T) {
	const format = "{{.ImportPath}} {{.Standard}} {{.CgoFiles}}"
	for _, cgo := range []string{"0", "1"} {
		lines := goList(t, cgo, format)
		var own int
		for _, l := range lines {
			path, rest, _ := strings.Cut(l, " ")
			standard, cgoFiles, _ := strings.Cut(rest, " ")
			if strings.HasPrefix(path, "github.com/babgate/bab/") {
				own++
			}
			if path == "fyne.io" || strings.HasPrefix(path, "fyne.io/") {
				t.Errorf("CGO_ENABLED=%s: a daemon depends on %s; only the console may use Fyne", cgo, path)
			}
			if cgoFiles != "[]" && (cgo == "0" || standard != "true") {
				t.Errorf("CGO_ENABLED=%s: %s has cgo files %s", cgo, path, cgoFiles)
			}
		}
		if own < 5 {
			t.Fatalf("CGO_ENABLED=%s: go list named only %d of our packages; the output format is not what this test reads:\n%s", cgo, own, strings.Join(lines, "\n"))
		}
	}
}

// TestHasPackageDoc checks the doc check itself on small sources.
func TestHasPackageDoc(t *testing.T) {
	tests := []struct {
		name, dir, src string
		want           bool
	}{
		{"package doc", "store", "// Package store keeps state.\npackage store\n", true},
		{"no comment", "store", "package store\n", false},
		{"comment not attached", "store", "// Package store keeps state.\n\npackage store\n", false},
		{"wrong name", "store", "// Package storage keeps state.\npackage store\n", false},
		{"not a sentence about the package", "store", "// This keeps state.\npackage store\n", false},
		{"command", "bab", "// Command bab is the appliance.\npackage main\n", true},
		{"command named after another directory", "bab", "// Command lab starts things.\npackage main\n", false},
		{"main with a package comment", "bab", "// Package main is the appliance.\npackage main\n", false},
		{"external test package", "e2e", "// Package e2e holds end-to-end tests.\npackage e2e_test\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.go")
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := hasPackageDoc([]string{path}, tc.dir)
			if err != nil || got != tc.want {
				t.Errorf("hasPackageDoc = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
