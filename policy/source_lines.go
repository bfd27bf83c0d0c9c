package policy

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// placeErrors wraps each error in a SourceError at the line of the node its
// Field names, and sorts them by line so ops read the file top down.
func placeErrors(name string, root *yaml.Node, errs []error) error {
	placed := make([]*SourceError, 0, len(errs))
	for _, err := range errs {
		line := 1
		var ve *ValidationError
		if errors.As(err, &ve) {
			line = lineOf(root, ve.Field)
		}
		placed = append(placed, &SourceError{Name: name, Line: line, Err: err})
	}
	return joinByLine(placed)
}

func joinByLine(placed []*SourceError) error {
	slices.SortStableFunc(placed, func(a, b *SourceError) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(placed))
	for i, e := range placed {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// sourceKeys maps a Bundle's JSON field names to the keys the source uses
// for them, in order of preference.
var sourceKeys = map[string][]string{
	"path_prefixes":      {"paths"},
	"expires":            {"expires", "valid_for"},
	"issued":             {"expires", "valid_for"},
	"attest_interval_s":  {"attest_interval"},
	"next_trust":         {"next_ops_keys"},
	"confidential_for_s": {"confidential_for"},
}

// lineOf follows a Field path such as "rules[2].path_prefixes[0]" through
// the node tree and returns the line of the deepest node it reaches: when
// the offending value is absent, its parent is the best place to point at.
func lineOf(doc *yaml.Node, field string) int {
	n := doc
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return 1
	}
	line := n.Line
	for _, step := range strings.Split(field, ".") {
		key, indexes, _ := strings.Cut(step, "[")
		if key != "" {
			if n = lookup(n, key); n == nil {
				return max(line, 1)
			}
			line = n.Line
		}
		for _, ix := range strings.Split(indexes, "[") {
			i, err := strconv.Atoi(strings.TrimSuffix(ix, "]"))
			if err != nil {
				continue // no index in this step
			}
			if n.Kind == yaml.AliasNode && n.Alias != nil {
				n = n.Alias
			}
			if n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return max(line, 1)
			}
			n = n.Content[i]
			line = n.Line
		}
	}
	return max(line, 1)
}

// lookup returns the value of key in mapping n, or nil; for a scalar it
// returns n itself, since the source writes an appliance as just its ID
// where the Bundle has {"id": ...}.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		return n
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	keys, ok := sourceKeys[key]
	if !ok {
		keys = []string{key}
	}
	for _, k := range keys {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
	}
	return nil
}

var (
	lineRE     = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	unknownRE  = regexp.MustCompile(`(?s)^field (.*) not found in type (\S+)$`)
	mismatchRE = regexp.MustCompile(`(?s)^cannot unmarshal (.*) into (\S+)$`)
)

// typeNames says in ops' terms what the YAML decoder expected where its
// messages name Go types.
var typeNames = map[string]string{
	"policy.sourceFile":        "the policy (a mapping with version, expires or valid_for, on_expiry, attest_interval, next_ops_keys, members, appliances, services, rules, routes and console_roles)",
	"policy.sourceMember":      "a member (a mapping with id and name)",
	"[]policy.sourceMember":    "a list of members",
	"policy.sourceService":     "a service (a mapping with id, description and openapi)",
	"policy.sourceRole":        "a console role (a mapping with role, member and services)",
	"[]policy.sourceRole":      "a list of console roles",
	"[]policy.sourceService":   "a list of services",
	"[]policy.sourceAppliance": "a list of appliances (each its identifier, or a mapping with id and key)",
	"policy.sourceRule":        "a rule (a mapping with consumer, service, methods, paths, rate, quota and purpose)",
	"[]policy.sourceRule":      "a list of rules",
	"policy.sourceRoute":       "a route (a mapping with service and appliances)",
	"[]policy.sourceRoute":     "a list of routes",
	"[]string":                 "a list of strings",
	"string":                   "a string",
	"uint64":                   "a whole number",
}

// yamlErrors turns the YAML decoder's errors into SourceErrors, with its
// "line N: " moved into place and Go type names replaced.
func yamlErrors(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	placed := make([]*SourceError, 0, len(msgs))
	for _, msg := range msgs {
		line := 1
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				line = n
			}
			msg = m[2]
		}
		placed = append(placed, &SourceError{Name: name, Line: line, Err: syntaxError(friendlyYAML(msg))})
	}
	return joinByLine(placed)
}

func friendlyYAML(msg string) string {
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unknown key %s in %s", quoteCut(m[1]), typeName(m[2]))
	} else if m := mismatchRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("cannot use %s as %s", m[1], typeName(m[2]))
	}
	// One error, one line: a value quoted by the decoder may hold newlines.
	return strings.ReplaceAll(msg, "\n", `\n`)
}

func typeName(goType string) string {
	if s, ok := typeNames[goType]; ok {
		return s
	}
	return goType
}
