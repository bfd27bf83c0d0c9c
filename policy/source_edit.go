package policy

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/babgate/bab/ident"
)

// AddAppliances adds ids to the appliances list of a policy source and
// raises its version by one, keeping the rest of the file, comments
// included, as ops wrote it. It returns the new source and the ids it
// added: those the source did not list already. Approving an enrolled
// appliance is this edit, then the usual check, sign and push.
func AddAppliances(src []byte, ids []ident.Appliance) ([]byte, []ident.Appliance, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%w: the source is not a mapping of keys", ErrMalformed)
	}
	root := doc.Content[0]
	list := mappingValue(root, "appliances")
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "appliances"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("%w: line %d: appliances is not a list", ErrMalformed, list.Line)
	}
	have := map[string]bool{}
	for _, n := range list.Content {
		have[n.Value] = true
	}
	var added []ident.Appliance
	for _, id := range ids {
		if !have[id.String()] {
			have[id.String()] = true
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: id.String()})
			added = append(added, id)
		}
	}
	if len(added) == 0 {
		return src, nil, nil
	}
	v := mappingValue(root, "version")
	if v == nil {
		return nil, nil, fmt.Errorf("%w: the source has no version", ErrMalformed)
	}
	n, err := strconv.ParseUint(v.Value, 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: line %d: version %q is not a whole number", ErrMalformed, v.Line, v.Value)
	}
	v.Value = strconv.FormatUint(n+1, 10)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return out.Bytes(), added, enc.Close()
}

// mappingValue is the value node of key in a YAML mapping, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
