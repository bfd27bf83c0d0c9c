package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jnode is a JSON value that keeps its object's keys in the order the
// provider wrote them, so that fields appear as the provider laid them out.
type jnode struct {
	kind   jkind
	keys   []string // of an object, in order
	kids   []*jnode // an object's values (beside keys) or an array's items
	scalar any      // string, json.Number, bool or nil
}

type jkind int

const (
	jScalar jkind = iota
	jObject
	jArray
)

// maxDepth bounds the nesting the console draws.
const maxDepth = 32

// parseJSON reads one JSON value, and nothing after it.
func parseJSON(b []byte) (*jnode, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	n, err := readJSON(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return n, nil
}

func readJSON(d *json.Decoder, depth int) (*jnode, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := t.(json.Delim)
	if !ok {
		return &jnode{kind: jScalar, scalar: t}, nil
	}
	n := &jnode{kind: jArray}
	if delim == '{' {
		n.kind = jObject
	}
	for d.More() {
		if n.kind == jObject {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string)) // the decoder only returns strings as keys
		}
		kid, err := readJSON(d, depth+1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, kid)
	}
	if _, err := d.Token(); err != nil { // the closing delimiter
		return nil, err
	}
	return n, nil
}

// flat reports whether n is an object of scalars only: a row of a table.
func (n *jnode) flat() bool {
	if n.kind != jObject {
		return false
	}
	for _, k := range n.kids {
		if k.kind != jScalar {
			return false
		}
	}
	return true
}
