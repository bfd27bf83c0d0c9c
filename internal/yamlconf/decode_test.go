package yamlconf

import (
	"errors"
	"testing"
)

type tTLS struct {
	CertFile string `yaml:"cert_file"`
}

type tClient struct {
	Name string `yaml:"name"`
}

type tGateway struct {
	Listen  string    `yaml:"listen"`
	TLS     *tTLS     `yaml:"tls"`
	Timeout *Duration `yaml:"timeout"`
	Max     *Size     `yaml:"max"`
	N       int       `yaml:"n"`
	Clients []tClient `yaml:"clients"`
}

type tFile struct {
	Version int               `yaml:"version"`
	Gateway tGateway          `yaml:"gateway"`
	Flag    bool              `yaml:"flag"`
	Labels  map[string]string `yaml:"labels"`
	Level   LogLevel          `yaml:"level"`
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown key", "version: 1\ngateway:\n  listn: x\n",
			`bab.yaml:3: unknown key "listn" in gateway (known keys: listen, tls, timeout, max, n, clients)`},
		{"unknown top key", "version: 1\nfoo: 1\n",
			`bab.yaml:2: unknown key "foo" at the top level (known keys: version, gateway, flag, labels, level)`},
		{"tab", "version: 1\ngateway:\n\tlisten: x\n",
			`bab.yaml:3: a tab is used for indentation; indent with spaces only`},
		{"colon in value", "version: 1\ngateway:\n  listen: a: b\n",
			`bab.yaml:3: unexpected ":" (quote a value that contains ": ", or check the indentation)`},
		{"unclosed quote", "version: 1\ngateway:\n  listen: \"x\n",
			`bab.yaml:3: the file ends too early (is a quote or bracket left open?)`},
		{"unclosed bracket", "version: 1\ngateway: [a\n",
			`bab.yaml:1: a list written in [brackets] is not closed with "]"`},
		{"not a mapping", "foo\n",
			`bab.yaml:1: the file should be a set of "key: value" lines, not a single value`},
		{"list at top", "- a\n",
			`bab.yaml:1: the file should be a set of "key: value" lines, not a list of "- " items`},
		{"empty", "", `bab.yaml: the file is empty (it has no settings, only blank lines or comments)`},
		{"comments only", "# hello\n\n", `bab.yaml: the file is empty (it has no settings, only blank lines or comments)`},
		{"document marker only", "---\n", `bab.yaml: the file is empty (it has no settings, only blank lines or comments)`},
		{"two documents", "version: 1\n---\nversion: 2\n",
			`bab.yaml:2: a second YAML document starts here ("---"); a config file holds exactly one`},
		{"text after document end", "version: 1\n...\nfoo: [\n",
			`bab.yaml:2: unexpected text after the end of the document ("..."); a config file holds exactly one`},
		{"duplicate key", "version: 1\ngateway:\n  n: 1\n  n: 2\n",
			`bab.yaml:4: duplicate key "n" in gateway (first set at line 3)`},
		{"duplicate flow key", "gateway: {listen: a, listen: b}\n",
			`bab.yaml:1: duplicate key "listen" in gateway (first set at line 1)`},
		{"duplicate map key", "labels:\n  a: x\n  a: y\n",
			`bab.yaml:3: duplicate key "a" in labels (first set at line 2)`},
		{"alias", "gateway: &g {listen: x}\nflag: *g\n",
			`bab.yaml:2: flag: aliases (*g) are not supported in config files; write the value out`},
		{"merge", "gateway:\n  <<: {n: 1}\n",
			`bab.yaml:2: merge keys (<<) are not supported in config files; write the keys out`},
		{"complex key", "? [a]\n: 1\n",
			`bab.yaml:1: a key at the top level must be a plain word, not a list or a mapping`},
		{"several values", "gateway:\n  timeout: 3x\n  max: -1\n  n: abc\n",
			"bab.yaml:2: gateway.timeout: invalid duration \"3x\" (write a number and a unit, e.g. 30s, 5m, 2h or 1d)\n" +
				"bab.yaml:3: gateway.max: invalid size \"-1\": it must not be negative\n" +
				`bab.yaml:4: gateway.n: should be a whole number, not "abc"`},
		{"shapes", "gateway:\n  clients: foo\n  tls: [1]\n  listen: {a: b}\n",
			"bab.yaml:2: gateway.clients should be a list of \"- \" items, not a single value\n" +
				"bab.yaml:3: gateway.tls should be a set of \"key: value\" lines, not a list of \"- \" items\n" +
				`bab.yaml:4: gateway.listen should be a single value, not a set of "key: value" lines`},
		{"item", "gateway:\n  clients:\n    - name: a\n    - nam: b\n",
			`bab.yaml:4: unknown key "nam" in gateway.clients[1] (known keys: name)`},
		{"bool", "flag: maybe\n", `bab.yaml:1: flag: should be true or false, not "maybe"`},
		{"custom on list", "gateway:\n  timeout: [1]\n",
			`bab.yaml:2: gateway.timeout: should be a duration such as 30s, not a list of "- " items`},
		{"level", "level: loud\n", `bab.yaml:1: level: invalid log level "loud" (use debug, info, warn or error)`},
		{"control character", "version: 1\nx: \x01\n", `bab.yaml:2: the file contains control characters; it must be plain text`},
		{"bad utf-8", "version: 1\nx: \xff\n", `bab.yaml:2: the file is not valid UTF-8 text`},
		{"at sign", "version: 1\n@foo: 1\n",
			"bab.yaml:2: a character here cannot start a value (quote the value if it starts with @, ` or %)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v tFile
			_, err := Decode("bab.yaml", []byte(tt.in), &v)
			if err == nil {
				t.Fatalf("Decode(%q) = nil error, want %q", tt.in, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Decode(%q) error:\n got: %s\nwant: %s", tt.in, got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "bab.yaml" {
				t.Errorf("Decode(%q) error %#v holds no *Error for bab.yaml", tt.in, err)
			}
		})
	}
}

func TestDecodeOK(t *testing.T) {
	in := `version: 1
gateway:
  listen: 127.0.0.1:8080
  tls:
    cert_file: a.crt
  timeout: 1d2h
  max: 64KiB
  n: 3
  clients:
    - name: a
    - name: "b"
flag: true
labels: {x: "1", y: 2}
level: WARN
`
	var got tFile
	root, err := Decode("bab.yaml", []byte(in), &got)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if root == nil {
		t.Fatal("Decode returned a nil root")
	}
	d, z := Duration(26*3600e9), Size(64<<10)
	want := tFile{
		Version: 1,
		Gateway: tGateway{
			Listen: "127.0.0.1:8080", TLS: &tTLS{CertFile: "a.crt"},
			Timeout: &d, Max: &z, N: 3,
			Clients: []tClient{{"a"}, {"b"}},
		},
		Flag:   true,
		Labels: map[string]string{"x": "1", "y": "2"},
		Level:  LogLevel(4),
	}
	if got.Version != want.Version || got.Gateway.Listen != want.Gateway.Listen ||
		*got.Gateway.TLS != *want.Gateway.TLS || *got.Gateway.Timeout != d || *got.Gateway.Max != z ||
		got.Gateway.N != 3 || len(got.Gateway.Clients) != 2 || got.Gateway.Clients[1] != want.Gateway.Clients[1] ||
		got.Flag != want.Flag || got.Labels["y"] != "2" || got.Level != want.Level {
		t.Errorf("Decode:\n got: %+v\nwant: %+v", got, want)
	}
}

// TestDecodeNull checks that "key:" with no value leaves the field unset.
func TestDecodeNull(t *testing.T) {
	var got tFile
	if _, err := Decode("f", []byte("version: 1\ngateway:\n  tls:\n  timeout:\n"), &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.Gateway.TLS != nil || got.Gateway.Timeout != nil {
		t.Errorf("null values set fields: %+v", got.Gateway)
	}
}

// TestDecodeRootOnError checks that the root comes back with strict errors,
// so that callers can check the version first.
func TestDecodeRootOnError(t *testing.T) {
	var v tFile
	root, err := Decode("f", []byte("version: 2\nnew_thing: 1\n"), &v)
	if err == nil || root == nil {
		t.Fatalf("Decode = %v, %v; want a root and an error", root, err)
	}
	if got := Line(root, "new_thing"); got != 2 {
		t.Errorf("Line(new_thing) = %d, want 2", got)
	}
}

func TestDecodeNotPointer(t *testing.T) {
	for _, v := range []any{tFile{}, (*tFile)(nil), nil} {
		if _, err := Decode("f", []byte("version: 1\n"), v); err == nil {
			t.Errorf("Decode into %T: no error", v)
		}
	}
}
