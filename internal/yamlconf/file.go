package yamlconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// ReadFile reads a config file. A missing file gives an error matching
// both notFound and fs.ErrNotExist, so that callers can tell "absent" from
// "invalid".
func ReadFile(path string, notFound error) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load config: %w: %w", notFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return data, nil
}

// DecodeVersioned decodes a config file strictly into v after checking
// its version. A wrong or missing version is reported alone, because the
// rest of the file may follow another schema; every error matches invalid.
func DecodeVersioned(file string, data []byte, v any, version int, invalid error) (*yaml.Node, error) {
	root, err := Decode(file, data, v)
	if verr := Version(file, root, version); verr != nil {
		return nil, Join(invalid, verr)
	}
	if err != nil {
		return nil, Join(invalid, err)
	}
	return root, nil
}

// Resolve makes a path from a config file relative to the file's directory
// dir, unless it is empty or absolute.
func Resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Parse is the whole of a config parser but the conversion: decode data
// strictly into a fresh F after checking its version, then convert it,
// collecting problems (with their lines) in p; the result, or every
// problem joined and matching invalid. dir is the file's directory, for
// relative paths.
func Parse[F, C any](file string, data []byte, version int, invalid error, convert func(p *Problems, dir string, f *F) *C) (*C, error) {
	var f F
	root, err := DecodeVersioned(file, data, &f, version, invalid)
	if err != nil {
		return nil, err
	}
	p := &Problems{File: file, Root: root}
	c := convert(p, filepath.Dir(file), &f)
	if err := p.Err(invalid); err != nil {
		return nil, err
	}
	return c, nil
}
