package problem

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCatalog(t *testing.T) {
	codes := Codes()
	if len(codes) == 0 {
		t.Fatal("Codes() is empty")
	}
	for _, c := range codes {
		i := Lookup(c)
		if i.Status < 400 || i.Status > 599 {
			t.Errorf("%s: status %d is not an error status", c, i.Status)
		}
		if i.Title == "" || strings.HasSuffix(i.Title, ".") {
			t.Errorf("%s: title %q must be a short phrase without a full stop", c, i.Title)
		}
		if i.Hint == "" || !strings.HasSuffix(i.Hint, ".") {
			t.Errorf("%s: hint %q must be a sentence ending in a full stop", c, i.Hint)
		}
		if c.TypeURI() != "urn:bab:problem:"+string(c) {
			t.Errorf("%s: type URI %q", c, c.TypeURI())
		}
	}
}

// declaredCodes reads the Code constants from the source, so that a code
// declared but left out of the catalog is caught: Lookup would quietly map
// it to internal.
func declaredCodes(t *testing.T) []Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "problem.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Code
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, Code(s))
				}
			}
		}
	}
	return out
}

func TestEveryCodeInCatalog(t *testing.T) {
	declared := declaredCodes(t)
	if len(declared) < 10 {
		t.Fatalf("found only %d Code constants in problem.go; the parser missed them", len(declared))
	}
	inCatalog := map[Code]bool{}
	for _, c := range Codes() {
		inCatalog[c] = true
	}
	for _, c := range declared {
		if !inCatalog[c] {
			t.Errorf("code %s is declared but has no catalog entry", c)
		}
	}
	if len(declared) != len(inCatalog) {
		t.Errorf("%d codes declared, %d in the catalog", len(declared), len(inCatalog))
	}
}

func TestLookupUnknown(t *testing.T) {
	if got, want := Lookup("invented_by_a_newer_peer"), Lookup(Internal); got != want {
		t.Errorf("Lookup(unknown) = %+v, want internal's %+v", got, want)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name      string
		code      Code
		retry     time.Duration
		wantRetry string // "" means no Retry-After header
	}{
		{"no retry", NotAllowed, 0, ""},
		{"negative retry", NotAllowed, -time.Second, ""},
		{"whole seconds", NoPolicy, 5 * time.Second, "5"},
		{"rounded up", ExchangeUnreachable, 1500 * time.Millisecond, "2"},
		{"a nanosecond is a second", ProviderOffline, time.Nanosecond, "1"},
		{"just over", Timeout, 2*time.Second + time.Nanosecond, "3"},
		{"the longest duration", RateLimited, 1<<63 - 1, "9223372037"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.code, "Policy v3 has no rule for MA/MUN/RABAT on this service.")
			p.Hop, p.RequestID = "exchange", "0123456789abcdef"
			rec := httptest.NewRecorder()
			Write(rec, p, tc.retry)

			info := Lookup(tc.code)
			if rec.Code != info.Status {
				t.Errorf("status = %d, want %d", rec.Code, info.Status)
			}
			h := rec.Header()
			if got := h.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := h.Get("Bab-Request-Id"); got != "0123456789abcdef" {
				t.Errorf("Bab-Request-Id = %q", got)
			}
			if got := h.Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tc.wantRetry)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, rec.Body)
			}
			want := map[string]any{
				"type":       "urn:bab:problem:" + string(tc.code),
				"title":      info.Title,
				"status":     float64(info.Status),
				"detail":     "Policy v3 has no rule for MA/MUN/RABAT on this service.",
				"code":       string(tc.code),
				"hint":       info.Hint,
				"hop":        "exchange",
				"request_id": "0123456789abcdef",
			}
			if !reflect.DeepEqual(body, want) {
				t.Errorf("body =\n%v\nwant\n%v", body, want)
			}
		})
	}
}

// TestWriteOmitsEmpty checks that hop and request_id are left out rather
// than sent empty, and that no Bab-Request-Id header is invented.
func TestWriteOmitsEmpty(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, New(BadRequest, "x"), 0)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"hop", "request_id"} {
		if _, ok := body[k]; ok {
			t.Errorf("body has %q: %v", k, body)
		}
	}
	if _, ok := rec.Header()["Bab-Request-Id"]; ok {
		t.Error("Bab-Request-Id set without a request id")
	}
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d", rec.Code)
	}
}

// TestProblemsDocumented keeps docs/problems.md in step with the catalog:
// every code has a table row that starts with it in backquotes and gives
// its status.
func TestProblemsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/problems.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, c := range Codes() {
		var row string
		for _, l := range lines {
			cells := strings.Split(l, "|")
			if len(cells) > 2 && strings.TrimSpace(cells[0]) == "" && strings.TrimSpace(cells[1]) == "`"+string(c)+"`" {
				row = l
				break
			}
		}
		if row == "" {
			t.Errorf("docs/problems.md has no table row starting with `%s`", c)
			continue
		}
		if status := strconv.Itoa(Lookup(c).Status); !strings.Contains(row, " "+status+" ") {
			t.Errorf("docs/problems.md: the row for `%s` does not give its status %s:\n%s", c, status, row)
		}
	}
}
