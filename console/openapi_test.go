package console

import (
	"errors"
	"testing"
)

const civilStatusDoc = `{"openapi":"3.0.3","info":{"title":"Civil status","version":"1"},
"paths":{
 "/citizens/{id}":{
   "parameters":[{"name":"id","in":"path","required":true,"description":"National number","schema":{"type":"string","pattern":"[1-9][0-9]{0,8}"}}],
   "get":{"summary":"A citizen's civil status record","parameters":[
     {"name":"fields","in":"query","schema":{"type":"string","enum":["all","identity"]}},
     {"name":"X-Trace","in":"header","schema":{"type":"string"}}]}},
 "/citizens":{"post":{"summary":"not a lookup"}},
 "/marriages":{"get":{"parameters":[{"$ref":"#/components/parameters/cin"}]}}
}}`

func TestOperationsFromOpenAPI(t *testing.T) {
	ops, err := OperationsFromOpenAPI([]byte(civilStatusDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].Path != "/citizens/{id}" || ops[1].Path != "/marriages" {
		t.Fatalf("operations %+v: want the two GETs", ops)
	}
	p := ops[0].Params
	if len(p) != 2 || p[0].Name != "id" || !p[0].Required || p[0].Pattern == "" || p[1].Name != "fields" || p[1].Required || len(p[1].Enum) != 2 {
		t.Errorf("params %+v: want id (path, required, pattern) and fields (query, enum); no header", p)
	}
	if len(ops[1].Params) != 0 {
		t.Errorf("a $ref parameter became %+v", ops[1].Params)
	}
	for _, bad := range []string{`{}`, `{"openapi":"2.0","paths":{}}`, `[1]`, `{"openapi":"3.1.0","paths":{"/x":{"get":[1]}}}`} {
		if _, err := OperationsFromOpenAPI([]byte(bad)); !errors.Is(err, ErrOpenAPI) {
			t.Errorf("%s: err %v, want ErrOpenAPI", bad, err)
		}
	}
}

// Fill checks what the form checks, and escapes what it puts in the path,
// so that no input climbs out of its segment.
func TestFill(t *testing.T) {
	ops, _ := OperationsFromOpenAPI([]byte(civilStatusDoc))
	op := ops[0]
	for _, c := range []struct {
		params      map[string]string
		path, query string
		ok          bool
	}{
		{map[string]string{"id": "42"}, "/citizens/42", "", true},
		{map[string]string{"id": "42", "fields": "identity"}, "/citizens/42", "fields=identity", true},
		{map[string]string{}, "", "", false},                               // required
		{map[string]string{"id": "0042"}, "", "", false},                   // pattern
		{map[string]string{"id": "42", "fields": "secret"}, "", "", false}, // enum
		{map[string]string{"id": "42", "admin": "1"}, "", "", false},       // not an input
		{map[string]string{"id": "../admin"}, "", "", false},               // pattern again
	} {
		path, query, err := op.Fill(c.params)
		if (err == nil) != c.ok || path != c.path || query != c.query {
			t.Errorf("Fill(%v) = %q %q %v; want %q %q ok %v", c.params, path, query, err, c.path, c.query, c.ok)
		}
	}
	free := Operation{Path: "/records/{ref}", Params: []Param{{Name: "ref", In: "path", Required: true}}}
	if path, _, err := free.Fill(map[string]string{"ref": "a/../b;c"}); err != nil || path != "/records/a%2F..%2Fb%3Bc" {
		t.Errorf("a value without a pattern: %q %v; want it escaped in its segment", path, err)
	}
}

func TestFillFreePath(t *testing.T) {
	path, _, err := FreePath.Fill(map[string]string{"path": "/citizens/42;x"})
	if err != nil || path != "/citizens/42%3Bx" {
		t.Errorf("free path: %q %v", path, err)
	}
}

// TestOperationSubject: a parameter the document marks x-bab-subject
// gives the lookup its subject, in the scheme the mark names.
func TestOperationSubject(t *testing.T) {
	doc := `{"openapi":"3.0.3","paths":{"/families/{holder}":{"get":{"parameters":[` +
		`{"name":"holder","in":"path","required":true,"x-bab-subject":"MA-CIN"},{"name":"view","in":"query"}]}}}}`
	ops, err := OperationsFromOpenAPI([]byte(doc))
	if err != nil || len(ops) != 1 {
		t.Fatalf("OperationsFromOpenAPI: %v, %v", ops, err)
	}
	if got := ops[0].Params[0].Subject; got != "MA-CIN" {
		t.Errorf("holder's subject scheme = %q, want MA-CIN", got)
	}
	if got := ops[0].Subject(map[string]string{"holder": "42", "view": "full"}); got != "MA-CIN:42" {
		t.Errorf("Subject = %q, want MA-CIN:42", got)
	}
	if got := ops[0].Subject(map[string]string{"view": "full"}); got != "" {
		t.Errorf("Subject without the holder = %q, want none", got)
	}
}
