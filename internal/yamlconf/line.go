package yamlconf

import "go.yaml.in/yaml/v3"

// Line returns the line of the node at path, 0 if absent. Path elements are
// map keys (string) and sequence indexes (int), for example
// Line(root, "gateway", "clients", 2, "token_sha256"). For a map key the line
// of the key is returned, so a problem with a block ("tls:") points at the
// line that opens it. root may be a document node or its content; with no
// path, the line of the top-level value is returned.
func Line(root *yaml.Node, path ...any) int {
	n := content(root)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, p := range path {
		switch p := p.(type) {
		case string:
			k, v := child(n, p)
			if k == nil {
				return 0
			}
			n, line = v, k.Line
		case int:
			if n.Kind != yaml.SequenceNode || p < 0 || p >= len(n.Content) {
				return 0
			}
			n = n.Content[p]
			line = n.Line
		default:
			return 0
		}
	}
	return line
}

// content returns the top-level value of a document node, or n itself.
func content(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return n.Content[0]
	}
	return n
}

// child returns the key and value nodes of key in mapping n, nil if absent.
func child(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if c := n.Content[i]; c.Kind == yaml.ScalarNode && c.Value == key {
			return c, n.Content[i+1]
		}
	}
	return nil, nil
}
