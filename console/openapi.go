package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ErrOpenAPI means a service's OpenAPI document cannot give lookup forms.
var ErrOpenAPI = errors.New("console: unusable OpenAPI document")

// OperationsFromOpenAPI reads the GET operations of an OpenAPI 3 document
// as lookup forms: each path template with its path and query parameters
// (the path's own and the operation's), whether they are required, their
// pattern and their enum. What a form cannot ask a clerk for ($ref,
// headers, cookies, bodies) is left out; a path parameter is always
// required, as OpenAPI says.
func OperationsFromOpenAPI(doc []byte) ([]Operation, error) {
	var d struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOpenAPI, err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, fmt.Errorf("%w: openapi %q is not 3.x", ErrOpenAPI, d.OpenAPI)
	}
	var ops []Operation
	for path, item := range d.Paths {
		get, ok := item["get"]
		if !ok {
			continue
		}
		var shared []oaParam
		if raw, ok := item["parameters"]; ok {
			_ = json.Unmarshal(raw, &shared) // a $ref list decodes to nothing usable
		}
		var op struct {
			Summary    string    `json:"summary"`
			Parameters []oaParam `json:"parameters"`
		}
		if err := json.Unmarshal(get, &op); err != nil {
			return nil, fmt.Errorf("%w: GET %s: %v", ErrOpenAPI, path, err)
		}
		o := Operation{Path: path, Summary: op.Summary}
		for _, p := range append(shared, op.Parameters...) {
			if param, ok := p.param(); ok && !slices.ContainsFunc(o.Params, func(q Param) bool { return q.Name == param.Name && q.In == param.In }) {
				o.Params = append(o.Params, param)
			}
		}
		ops = append(ops, o)
	}
	slices.SortFunc(ops, func(a, b Operation) int { return strings.Compare(a.Path, b.Path) })
	return ops, nil
}

type oaParam struct {
	Name        string `json:"name"`
	In          string `json:"in"`
	Required    bool   `json:"required"`
	Description string `json:"description"`
	Subject     string `json:"x-bab-subject"`
	Schema      struct {
		Pattern string `json:"pattern"`
		Enum    []any  `json:"enum"`
	} `json:"schema"`
}

func (p oaParam) param() (Param, bool) {
	if p.Name == "" || (p.In != "path" && p.In != "query") {
		return Param{}, false
	}
	out := Param{Name: p.Name, In: p.In, Required: p.Required || p.In == "path", Description: p.Description, Pattern: p.Schema.Pattern, Subject: p.Subject}
	if out.Pattern != "" {
		if _, err := regexp.Compile(out.Pattern); err != nil {
			out.Pattern = "" // a pattern Go cannot check is not enforced by the form
		}
	}
	for _, e := range p.Schema.Enum {
		out.Enum = append(out.Enum, fmt.Sprint(e))
	}
	return out, true
}

// Fill expands an operation's path template with params and returns the
// path and the raw query; it checks what the form checks (required,
// pattern, enum), so that the appliance refuses what a form would not
// send.
func (o Operation) Fill(params map[string]string) (path, query string, err error) {
	path = o.Path
	var q []string
	for _, p := range o.Params {
		v, ok := params[p.Name]
		switch {
		case (!ok || v == "") && p.Required:
			return "", "", fmt.Errorf("%w: %s is required", ErrInput, p.Name)
		case !ok || v == "":
			continue
		case p.Pattern != "" && !regexp.MustCompile("^(?:"+p.Pattern+")$").MatchString(v):
			return "", "", fmt.Errorf("%w: %s does not have the expected form", ErrInput, p.Name)
		case len(p.Enum) > 0 && !slices.Contains(p.Enum, v):
			return "", "", fmt.Errorf("%w: %s must be one of %s", ErrInput, p.Name, strings.Join(p.Enum, ", "))
		}
		if p.In == "path" {
			path = strings.ReplaceAll(path, "{"+p.Name+"}", p.escape(o.Path, v))
		} else {
			q = append(q, queryEscape(p.Name)+"="+queryEscape(v))
		}
	}
	for name := range params {
		if !slices.ContainsFunc(o.Params, func(p Param) bool { return p.Name == name }) {
			return "", "", fmt.Errorf("%w: %s is not an input of %s", ErrInput, name, o.Path)
		}
	}
	if strings.Contains(path, "{") {
		return "", "", fmt.Errorf("%w: %s has a parameter the document does not describe", ErrInput, o.Path)
	}
	return path, strings.Join(q, "&"), nil
}

// Subject is the subject of a lookup filled with params: SCHEME:value of
// the first parameter marked as the subject (x-bab-subject) that has a
// value, or "".
func (o Operation) Subject(params map[string]string) string {
	for _, p := range o.Params {
		if v := params[p.Name]; p.Subject != "" && v != "" {
			return p.Subject + ":" + v
		}
	}
	return ""
}

// ErrInput means a lookup's inputs do not fit its form.
var ErrInput = errors.New("console: input does not fit the form")

// FreePath is the form of a service without an OpenAPI document: the
// clerk types the path inside the service, segments and all.
var FreePath = Operation{Path: "/{path}", Params: []Param{{Name: "path", In: "path", Required: true,
	Description: "the record's path inside the service, such as citizens/42"}}}

// escape puts a value in its path segment; the free path's value keeps its
// slashes between segments, each escaped.
func (p Param) escape(template, v string) string {
	if template != FreePath.Path {
		return pathEscape(v)
	}
	segs := strings.Split(strings.TrimPrefix(v, "/"), "/")
	for i, s := range segs {
		segs[i] = pathEscape(s)
	}
	return strings.Join(segs, "/")
}

func pathEscape(s string) string  { return strings.ReplaceAll(url.PathEscape(s), ";", "%3B") }
func queryEscape(s string) string { return url.QueryEscape(s) }
