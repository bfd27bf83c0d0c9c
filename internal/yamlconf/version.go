package yamlconf

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Version checks that the top-level "version:" key of root is present and
// equals supported. It returns an *Error saying what is wrong, or nil. It
// also returns nil when root is nil or not a mapping: Decode reports that.
// Call it before reporting Decode's other errors, since a file written for
// another version is expected to have keys this program does not know.
func Version(file string, root *yaml.Node, supported int) error {
	n := content(root)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	missing := fmt.Sprintf("missing \"version: %d\" at the top of the file", supported)
	k, v := child(n, "version")
	switch {
	case k == nil:
		return &Error{File: file, Msg: missing}
	case isNull(v):
		return &Error{File: file, Line: k.Line, Msg: missing}
	case v.Kind == yaml.ScalarNode && v.Value == strconv.Itoa(supported):
		return nil
	}
	got := quote(v.Value)
	if v.Kind != yaml.ScalarNode {
		got = "(" + kindName(v.Kind) + ")"
	} else if _, err := strconv.ParseUint(v.Value, 10, 64); err == nil {
		got = v.Value
	}
	return &Error{File: file, Line: k.Line,
		Msg: fmt.Sprintf("unsupported config version %s; this program reads version %d", got, supported)}
}
