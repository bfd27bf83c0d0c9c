package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Decode decodes data strictly into v, which must be a non-nil pointer to a
// struct whose fields carry yaml tags. Unknown keys, duplicate keys, values
// of the wrong shape or type, aliases, more than one YAML document and an
// empty document are all errors. Problems are returned as *Error values
// (joined with errors.Join when there are several), in line order, with the
// given file name and yaml's messages reworded into plain ones.
//
// The root node is returned whenever data is well-formed YAML, even when err
// is not nil, so that callers can check the format version first (see
// Version) or find the lines of their own validation errors (see Line).
// v is only completely filled in when err is nil.
func Decode(file string, data []byte, v any) (*yaml.Node, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("yamlconf decode: want a non-nil pointer, got %T", v)
	}
	root, err := parse(file, data)
	if err != nil {
		return root, err
	}
	w := walker{file: file}
	w.value(root.Content[0], rv.Type().Elem(), "")
	if len(w.errs) > 0 {
		return root, joinSorted(w.errs)
	}
	if err := root.Content[0].Decode(v); err != nil {
		// The walk checks everything yaml checks; this is a safety net.
		return root, &Error{File: file, Msg: plainDecodeError(err)}
	}
	return root, nil
}

// parse reads exactly one YAML document and returns its document node.
func parse(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: msgEmpty}
		}
		return nil, syntaxError(file, data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{File: file, Msg: msgEmpty}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return &doc, syntaxError(file, data, err)
	}
	return &doc, &Error{File: file, Line: next.Line, Msg: msgSecondDoc}
}

const (
	msgEmpty     = `the file is empty (it has no settings, only blank lines or comments)`
	msgSecondDoc = `a second YAML document starts here ("---"); a config file holds exactly one`
)

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// joinSorted orders errs by line (stable) and joins them; a single error
// is returned as it is.
func joinSorted(errs []*Error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// plainDecodeError strips yaml's package prefix from an unexpected error.
func plainDecodeError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors[0]
	}
	return trimPrefix(err.Error())
}
