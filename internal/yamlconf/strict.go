package yamlconf

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// walker checks a node tree against the Go type it will be decoded into and
// collects every problem, so that one run reports all of them.
type walker struct {
	file string
	errs []*Error
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	nodeType        = reflect.TypeFor[yaml.Node]()
)

func (w *walker) add(line int, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// value checks node n, to be decoded into a value of type t found at path.
func (w *walker) value(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		w.add(n.Line, "%s: aliases (*%s) are not supported in config files; write the value out", subject(path), n.Value)
		return
	}
	if isNull(n) || t == nodeType {
		return
	}
	if t.Kind() == reflect.Pointer {
		w.value(n, t.Elem(), path)
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		w.leaf(n, t, path, true)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.structure(n, t, path)
	case reflect.Map:
		w.dict(n, t, path)
	case reflect.Slice, reflect.Array:
		w.list(n, t, path)
	case reflect.Interface:
		// Anything goes.
	default:
		w.leaf(n, t, path, false)
	}
}

// structure checks a mapping decoded into a struct: every key known, once.
func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if !w.shape(n, yaml.MappingNode, path) {
		return
	}
	fields := fieldsOf(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !w.key(k, path, seen) {
			continue
		}
		ft, ok := lookup(fields, k.Value)
		if !ok {
			w.add(k.Line, "unknown key %s %s (known keys: %s)", quote(k.Value), in(path), names(fields))
			continue
		}
		w.value(v, ft, join(path, k.Value))
	}
}

// dict checks a mapping decoded into a Go map.
func (w *walker) dict(n *yaml.Node, t reflect.Type, path string) {
	if !w.shape(n, yaml.MappingNode, path) {
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !w.key(k, path, seen) {
			continue
		}
		w.leaf(k, t.Key(), subject(path)+" key", false)
		w.value(v, t.Elem(), join(path, k.Value))
	}
}

// key checks a mapping key: a plain scalar, not a merge, not seen before.
func (w *walker) key(k *yaml.Node, path string, seen map[string]int) bool {
	switch {
	case k.Kind != yaml.ScalarNode:
		w.add(k.Line, "a key %s must be a plain word, not a list or a mapping", in(path))
		return false
	case k.ShortTag() == "!!merge":
		w.add(k.Line, "merge keys (<<) are not supported in config files; write the keys out")
		return false
	}
	if first, dup := seen[k.Value]; dup {
		w.add(k.Line, "duplicate key %s %s (first set at line %d)", quote(k.Value), in(path), first)
		return false
	}
	seen[k.Value] = k.Line
	return true
}

// list checks a sequence and each of its items.
func (w *walker) list(n *yaml.Node, t reflect.Type, path string) {
	if !w.shape(n, yaml.SequenceNode, path) {
		return
	}
	if t.Kind() == reflect.Array && len(n.Content) > t.Len() {
		w.add(n.Line, "%s: at most %d items are allowed, not %d", subject(path), t.Len(), len(n.Content))
		return
	}
	for i, item := range n.Content {
		w.value(item, t.Elem(), path+"["+strconv.Itoa(i)+"]")
	}
}

// leaf decodes a single value on its own to report a bad one at its line.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string, custom bool) {
	if !custom && !w.shape(n, yaml.ScalarNode, path) {
		return
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if custom && !errors.As(err, &te) {
		w.add(n.Line, "%s: %s", subject(path), trimPrefix(err.Error()))
		return
	}
	w.add(n.Line, "%s: %s", subject(path), want(t, n))
}

// shape reports a node of the wrong kind; it returns whether n is of kind k.
func (w *walker) shape(n *yaml.Node, k yaml.Kind, path string) bool {
	if n.Kind == k {
		return true
	}
	w.add(n.Line, "%s should be %s, not %s", subject(path), kindName(k), kindName(n.Kind))
	return false
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return `a set of "key: value" lines`
	case yaml.SequenceNode:
		return `a list of "- " items`
	case yaml.ScalarNode:
		return "a single value"
	}
	return "a YAML document"
}

// want describes the value expected for type t, given n.
func want(t reflect.Type, n *yaml.Node) string {
	got := quote(n.Value)
	switch t.Kind() {
	case reflect.Bool:
		return "should be true or false, not " + got
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "should be a whole number, not " + got
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "should be a whole number, 0 or more, not " + got
	case reflect.Float32, reflect.Float64:
		return "should be a number, not " + got
	case reflect.String:
		return "should be text, not " + got
	}
	return "has a value of the wrong type: " + got
}

type field struct {
	name string
	typ  reflect.Type
}

// fieldsOf lists the YAML keys of struct type t in field order.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			fs = append(fs, fieldsOf(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs = append(fs, field{name, f.Type})
	}
	return fs
}

func lookup(fs []field, name string) (reflect.Type, bool) {
	for _, f := range fs {
		if f.name == name {
			return f.typ, true
		}
	}
	return nil, false
}

func names(fs []field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// subject names path at the start of a message.
func subject(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// in names path after "unknown key ...".
func in(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// quote quotes a value from the file for a message, shortening long ones.
func quote(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return strconv.Quote(s)
}
