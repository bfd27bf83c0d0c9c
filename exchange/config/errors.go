package config

import "errors"

// ErrNotFound is matched by the error Load returns when the config file does
// not exist (the error also matches fs.ErrNotExist).
var ErrNotFound = errors.New("config file not found")

// ErrInvalid is matched by the error Load and Parse return when the file is
// not a valid config; that error also holds one *yamlconf.Error per problem,
// each with the file and line.
var ErrInvalid = errors.New("invalid config")
