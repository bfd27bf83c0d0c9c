package ui

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

func readTranslations(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := translations.ReadFile("translations/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

var templateVar = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// TestTranslationsMatch: both files have the same keys, no empty text,
// and each text uses the same template fields in both languages.
func TestTranslationsMatch(t *testing.T) {
	en, fr := readTranslations(t, "en"), readTranslations(t, "fr")
	for k, v := range en {
		f, ok := fr[k]
		if !ok {
			t.Errorf("%s: in en.json, not in fr.json", k)
			continue
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(f) == "" {
			t.Errorf("%s: empty text", k)
		}
		if a, b := fields(v), fields(f); !slices.Equal(a, b) {
			t.Errorf("%s: en uses %v, fr uses %v", k, a, b)
		}
	}
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: in fr.json, not in en.json", k)
		}
	}
}

func fields(s string) []string {
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dynamicPrefixes are the key families the code builds from a name: a
// status, a problem code, an error, a provider's status, a column. The
// texts they give are checked by TestDynamicKeysTranslated.
var dynamicPrefixes = []string{"status.", "problem.", "error.", "result.status.", "activity.col.", "pair.", "finding."}

// TestKeysInCode reads the package's sources: every key given literally
// to lang.L or lang.X exists, and every key in the files is used, by a
// literal or through one of the families built from a name.
func TestKeysInCode(t *testing.T) {
	en := readTranslations(t, "en")
	used := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "lang" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			used[key] = true
			if _, ok := en[key]; !ok {
				t.Errorf("%s: lang.%s(%q): no such key", fset.Position(call.Pos()), sel.Sel.Name, key)
			}
			return true
		})
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in the code; the scan is broken", len(used))
	}
	for _, k := range activityColumns {
		used[k] = true
	}
	for k := range en {
		if used[k] {
			continue
		}
		dynamic := false
		for _, p := range dynamicPrefixes {
			dynamic = dynamic || strings.HasPrefix(k, p)
		}
		if !dynamic {
			t.Errorf("%s: not used", k)
		}
	}
}

// untranslated is what a missing key looks like on screen: the key.
var untranslated = regexp.MustCompile(`^[a-z_]+(\.[a-z_0-9]+)+$`)

// TestDynamicKeysTranslated draws every note the console builds from a
// name, in both languages, and fails on any that shows a key instead of
// a text.
func TestDynamicKeysTranslated(t *testing.T) {
	clk := clock{now: func() time.Time { return now }, loc: time.UTC}
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			useLanguage(t, lang)
			var notes []note
			states := []func(*console.Status){
				func(*console.Status) {},
				func(s *console.Status) { s.Revoked = true },
				func(s *console.Status) { s.Pending = true },
				func(s *console.Status) { s.Quarantine = "x" },
				func(s *console.Status) { s.Connected = false },
				func(s *console.Status) { s.Connected, s.Since = false, time.Time{} },
				func(s *console.Status) { s.Attested = false },
				func(s *console.Status) { s.PolicyProblem = "x" },
				func(s *console.Status) { s.PolicyVersion = 0 },
				func(s *console.Status) { s.PolicyExpired = true },
				func(s *console.Status) { s.PolicyNote = "x" },
			}
			for _, f := range states {
				notes = append(notes, describeStatus(with(f), nil, clk)...)
			}
			notes = append(notes, describeStatus(nil, nil, clk)...)
			for _, c := range append(problem.Codes(), "from_the_future") {
				notes = append(notes, problemNote(&console.ProblemError{Problem: problem.Problem{Code: c}, RetryAfter: time.Duration(len(c)) * 10 * time.Second}))
			}
			for _, err := range []error{
				errors.New("x"), &console.StatusError{Status: 404}, console.ErrWrongAppliance, console.ErrTooLarge, tlsRefusal(),
			} {
				notes = append(notes, errorNote(err))
			}
			for _, s := range []int{400, 401, 404, 418, 500} {
				n, _ := providerStatusNote(s, "P")
				notes = append(notes, n)
			}
			for _, err := range []error{console.ErrBadCode, console.ErrWrongAppliance, console.ErrWrongAddress, &console.ProblemError{Problem: problem.Problem{Code: problem.Unauthenticated}}, errors.New("x")} {
				notes = append(notes, pairErrorNote(err, "https://a:1"))
			}
			for _, k := range []string{"pair.bad_address", "pair.bad_code", "pair.no_name"} {
				notes = append(notes, simpleNote(levelFail, k, ""))
			}
			// Every finding an appliance reports, with its fix unless it is ok.
			args := map[string]string{"Since": "2026-11-27T09:00:00Z", "Until": "2026-12-27T09:00:00Z", "Version": "4", "Reason": "r", "Error": "e"}
			for _, code := range console.FindingCodes {
				verdict := "fail"
				if strings.HasSuffix(code, ".ok") {
					verdict = "ok"
				}
				notes = append(notes, findingNote(console.Finding{Code: code, Args: args, Verdict: verdict, Result: "x", Fix: "y"}, clk))
			}
			for _, n := range notes {
				for _, s := range []string{n.short, n.text, n.next} {
					if untranslated.MatchString(s) || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
						t.Errorf("untranslated or unfilled: %q in %+v", s, n)
					}
				}
			}
			for _, k := range activityColumns {
				if s := langL(k); s == k {
					t.Errorf("column %s untranslated", k)
				}
			}
		})
	}
}
