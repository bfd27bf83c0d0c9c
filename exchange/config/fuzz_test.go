package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/babgate/bab/internal/yamlconf"
	"github.com/babgate/bab/wire"
)

// FuzzParse checks that Parse never panics, that a failure matches
// ErrInvalid and holds placed errors, and that a success is complete.
func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.yaml")
	inputs = append(inputs, "../../packaging/bab-exchange.yaml")
	for _, file := range inputs {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("bab-exchange.yaml", data)
		if err != nil {
			var e *yamlconf.Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) {
				t.Fatalf("Parse error %v does not match ErrInvalid with a *yamlconf.Error", err)
			}
			return
		}
		if c.File != "bab-exchange.yaml" || c.StateDir == "" || c.Listen == "" || c.AdminSocket == "" ||
			len(c.Names) == 0 || len(c.OpsKeyFiles) == 0 ||
			c.PolicyThreshold < 1 || c.PolicyThreshold > len(c.OpsKeyFiles) ||
			c.CertLifetime <= 0 || c.Heartbeat < wire.MinHeartbeat || c.Heartbeat > wire.MaxHeartbeat || c.RequestTimeoutMax <= 0 {
			t.Fatalf("Parse accepted an incomplete config: %+v", c)
		}
	})
}
