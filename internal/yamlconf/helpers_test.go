package yamlconf

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func mustRoot(t *testing.T, in string) *yaml.Node {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(in), &root); err != nil {
		t.Fatal(err)
	}
	return &root
}
