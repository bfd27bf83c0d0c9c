package yamlconf

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"version: 1\n", ""},
		{"version: \"1\"\n", ""},
		{"a: b\nversion: 1\n", ""},
		{"a: b\n", `f.yaml: missing "version: 1" at the top of the file`},
		{"a: b\nversion:\n", `f.yaml:2: missing "version: 1" at the top of the file`},
		{"version: 2\n", `f.yaml:1: unsupported config version 2; this program reads version 1`},
		{"version: 1.0\n", `f.yaml:1: unsupported config version "1.0"; this program reads version 1`},
		{"version: one\n", `f.yaml:1: unsupported config version "one"; this program reads version 1`},
		{"version: [1]\n", `f.yaml:1: unsupported config version (a list of "- " items); this program reads version 1`},
		{"- version: 2\n", ""}, // not a mapping: Decode reports it
	}
	for _, tt := range tests {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(tt.in), &root); err != nil {
			t.Fatal(err)
		}
		err := Version("f.yaml", &root, 1)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Version(%q):\n got: %s\nwant: %s", tt.in, got, tt.want)
		}
	}
	if err := Version("f.yaml", nil, 1); err != nil {
		t.Errorf("Version(nil) = %v, want nil", err)
	}
}
