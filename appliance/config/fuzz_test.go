package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/babgate/bab/internal/yamlconf"
)

// FuzzParse checks that Parse never panics, that a failure matches
// ErrInvalid and holds placed errors, and that a success is complete.
func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.yaml")
	inputs = append(inputs, "../../packaging/bab.yaml")
	for _, file := range inputs {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("bab.yaml", data)
		if err != nil {
			var e *yamlconf.Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) {
				t.Fatalf("Parse error %v does not match ErrInvalid with a *yamlconf.Error", err)
			}
			return
		}
		if c.File != "bab.yaml" || c.StateDir == "" || c.Gateway.Listen == "" || c.Admin.Listen == "" ||
			c.Gateway.DefaultTimeout <= 0 || c.Gateway.DefaultTimeout > c.Gateway.MaxTimeout || c.Gateway.MaxBodyBytes < 0 {
			t.Fatalf("Parse accepted an incomplete config: %+v", c)
		}
		for _, cl := range c.Gateway.Clients {
			if cl.HasToken == cl.HasCert || cl.Name == "" {
				t.Fatalf("Parse accepted client %+v", cl)
			}
		}
		for _, s := range c.Services {
			if s.Backend == nil || s.Timeout <= 0 {
				t.Fatalf("Parse accepted service %+v", s)
			}
		}
	})
}
