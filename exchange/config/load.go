package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/babgate/bab/internal/yamlconf"
)

// Load reads and parses the config file at path. A missing file gives an
// error matching ErrNotFound and fs.ErrNotExist; a file with problems gives
// an error matching ErrInvalid that lists them, one "FILE:LINE: MSG" line
// (a *yamlconf.Error) per problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load config: %w: %w", ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses the contents of a config file. file names it in messages and
// relative paths in it are taken relative to file's directory. The file
// must list at least one ops key.
func Parse(file string, data []byte) (*Config, error) {
	var f fileV1
	root, err := yamlconf.Decode(file, data, &f)
	if verr := yamlconf.Version(file, root, Version); verr != nil {
		return nil, yamlconf.Join(ErrInvalid, verr)
	}
	if err != nil {
		return nil, yamlconf.Join(ErrInvalid, err)
	}
	c := &converter{
		p:   yamlconf.Problems{File: file, Root: root},
		dir: filepath.Dir(file),
	}
	cfg := c.config(&f)
	if err := c.p.Err(ErrInvalid); err != nil {
		return nil, err
	}
	cfg.File = file
	return cfg, nil
}

// converter turns the file schema into a Config, collecting problems.
type converter struct {
	p   yamlconf.Problems
	dir string // the config file's directory
}

// at is shorthand for building a path for Problems.Add.
func at(path ...any) []any { return path }

// path resolves a file path from the config relative to its directory.
func (c *converter) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
