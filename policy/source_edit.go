package policy

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/babgate/bab/ident"
)

// ApproveAppliances writes appliances, each with its key, into the
// appliances list of a policy source and raises its version by one,
// keeping the rest of the file, comments included, as ops wrote it. An
// appliance the source does not list is added as {id: ID, key: KEY}; one
// it lists without that key (written as its identifier alone, or with
// another key) gets that key. It returns the new source, the appliances
// it added and those it gave a key. Approving an enrolled appliance, or its new key
// after it was re-enrolled or replaced, is this edit, then the usual
// check, sign and push.
func ApproveAppliances(src []byte, approve []Appliance) (out []byte, added, keyed []ident.Appliance, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, nil, fmt.Errorf("%w: the source is not a mapping of keys", ErrMalformed)
	}
	root := doc.Content[0]
	list := mappingValue(root, "appliances")
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "appliances"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, nil, fmt.Errorf("%w: line %d: appliances is not a list", ErrMalformed, list.Line)
	}
	entries := map[string]*yaml.Node{}
	for _, n := range list.Content {
		switch n.Kind {
		case yaml.ScalarNode:
			entries[n.Value] = n
		case yaml.MappingNode:
			if id := mappingValue(n, "id"); id != nil {
				entries[id.Value] = n
			}
		}
	}
	for _, a := range approve {
		if !ValidKeyHash(a.Key) {
			return nil, nil, nil, fmt.Errorf("approve %s: %q is not a key as the registry writes it", a.ID, a.Key)
		}
		n := entries[a.ID.String()]
		switch {
		case n == nil:
			n = &yaml.Node{}
			list.Content = append(list.Content, n)
			entries[a.ID.String()] = n
			added = append(added, a.ID)
		case n.Kind == yaml.MappingNode && mappingValue(n, "key") != nil && mappingValue(n, "key").Value == a.Key:
			continue
		default:
			keyed = append(keyed, a.ID)
		}
		setApplianceEntry(n, a)
	}
	if len(added)+len(keyed) == 0 {
		return src, nil, nil, nil
	}
	// Entries with keys read best one per line.
	list.Style = 0
	v := mappingValue(root, "version")
	if v == nil {
		return nil, nil, nil, fmt.Errorf("%w: the source has no version", ErrMalformed)
	}
	n, err := strconv.ParseUint(v.Value, 10, 64)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: line %d: version %q is not a whole number", ErrMalformed, v.Line, v.Value)
	}
	v.Value = strconv.FormatUint(n+1, 10)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return buf.Bytes(), added, keyed, enc.Close()
}

// setApplianceEntry makes n the entry {id: ID, key: KEY} of a, keeping the
// comments around it.
func setApplianceEntry(n *yaml.Node, a Appliance) {
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	n.Kind, n.Tag, n.Value, n.Style = yaml.MappingNode, "!!map", "", 0
	n.Content = []*yaml.Node{scalar("id"), scalar(a.ID.String()), scalar("key"), scalar(a.Key)}
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
