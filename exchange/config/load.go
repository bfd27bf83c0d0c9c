package config

import (
	"github.com/babgate/bab/internal/yamlconf"
)

// Load reads and parses the config file at path. A missing file gives an
// error matching ErrNotFound and fs.ErrNotExist; a file with problems gives
// an error matching ErrInvalid that lists them, one "FILE:LINE: MSG" line
// (a *yamlconf.Error) per problem.
func Load(path string) (*Config, error) {
	data, err := yamlconf.ReadFile(path, ErrNotFound)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses the contents of a config file. file names it in messages and
// relative paths in it are taken relative to file's directory. The file
// must list at least one ops key.
func Parse(file string, data []byte) (*Config, error) {
	cfg, err := yamlconf.Parse(file, data, Version, ErrInvalid, func(p *yamlconf.Problems, dir string, f *fileV1) *Config {
		return (&converter{p: p, dir: dir}).config(f)
	})
	if err != nil {
		return nil, err
	}
	cfg.File = file
	return cfg, nil
}

// converter turns the file schema into a Config, collecting problems.
type converter struct {
	p   *yamlconf.Problems
	dir string // the config file's directory
}

// at is shorthand for building a path for Problems.Add.
func at(path ...any) []any { return path }

// path resolves a file path from the config relative to its directory.
func (c *converter) path(p string) string { return yamlconf.Resolve(c.dir, p) }
