package yamlconf

import (
	"errors"
	"testing"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{"bab.yaml", 7, "bad"}, "bab.yaml:7: bad"},
		{Error{"bab.yaml", 0, "bad"}, "bab.yaml: bad"},
		{Error{"", 7, "bad"}, "line 7: bad"},
		{Error{"", 0, "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	kind := errors.New("invalid config")
	a := &Error{File: "f", Line: 1, Msg: "a"}
	b := &Error{File: "f", Line: 2, Msg: "b"}
	err := Join(kind, a, b)
	if got, want := err.Error(), "f:1: a\nf:2: b"; got != want {
		t.Errorf("Join().Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, kind) {
		t.Error("Join() does not match kind")
	}
	var e *Error
	if !errors.As(err, &e) || e != a {
		t.Errorf("errors.As(Join()) = %v, want the first *Error", e)
	}
	if Join(kind) != nil || Join(kind, nil) != nil {
		t.Error("Join of no errors is not nil")
	}
}

func TestProblems(t *testing.T) {
	var root = mustRoot(t, "a: 1\nb:\n  - x\n  - y\n")
	kind := errors.New("invalid")
	p := Problems{File: "f", Root: root}
	if p.Err(kind) != nil {
		t.Fatal("Err with no problems is not nil")
	}
	p.Add([]any{"b", 1}, "bad %s", "y")
	p.Add([]any{"a"}, "bad a")
	p.Add(nil, "missing c")
	err := p.Err(kind)
	want := "f: missing c\nf:1: a: bad a\nf:4: b[1]: bad y"
	if err == nil || err.Error() != want || !errors.Is(err, kind) {
		t.Errorf("Err() = %v, want %q matching kind", err, want)
	}
}
