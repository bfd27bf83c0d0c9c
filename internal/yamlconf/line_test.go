package yamlconf

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestLine(t *testing.T) {
	const in = `version: 1
gateway:
  listen: x
  clients:
    - name: a
    - name: b

      token_sha256: abc
  tls:
    cert_file: c
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(in), &root); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path []any
		want int
	}{
		{nil, 1},
		{[]any{"version"}, 1},
		{[]any{"gateway"}, 2},
		{[]any{"gateway", "listen"}, 3},
		{[]any{"gateway", "clients"}, 4},
		{[]any{"gateway", "clients", 0}, 5},
		{[]any{"gateway", "clients", 1, "token_sha256"}, 8},
		{[]any{"gateway", "tls", "cert_file"}, 10},
		{[]any{"gateway", "clients", 2}, 0},
		{[]any{"gateway", "clients", -1}, 0},
		{[]any{"gateway", "missing"}, 0},
		{[]any{"gateway", 0}, 0},
		{[]any{"version", "x"}, 0},
		{[]any{1.5}, 0},
	}
	for _, tt := range tests {
		if got := Line(&root, tt.path...); got != tt.want {
			t.Errorf("Line(%v) = %d, want %d", tt.path, got, tt.want)
		}
	}
	if got := Line(root.Content[0], "gateway"); got != 2 {
		t.Errorf("Line(content, gateway) = %d, want 2", got)
	}
	if got := Line(nil, "gateway"); got != 0 {
		t.Errorf("Line(nil) = %d, want 0", got)
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		path []any
		want string
	}{
		{nil, ""},
		{[]any{"gateway"}, "gateway"},
		{[]any{"gateway", "clients", 1, "name"}, "gateway.clients[1].name"},
		{[]any{"exchanges", 0}, "exchanges[0]"},
	}
	for _, tt := range tests {
		if got := Path(tt.path...); got != tt.want {
			t.Errorf("Path(%v) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
